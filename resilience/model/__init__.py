"""The model in plain Python: outcome layouts (`outcomes`), the sampled timeline (`timeline`) and
the reference day loop (`reference`). Imports only `network` and `scenario` below it."""
