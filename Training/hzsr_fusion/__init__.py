"""Training of hzsr's fusion network (pipeline step 7); `model.py` is the contract with Swift."""
