"""Cross-check of numpy_impl against torch_impl and autograd."""
