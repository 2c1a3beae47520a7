"""Suite-wide settings: one torch thread (small test batches run faster without thread hand-offs, and a
loaded CI machine does not oversubscribe its cores)."""

import torch

torch.set_num_threads(1)
