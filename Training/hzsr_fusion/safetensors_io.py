"""Writes the safetensors format (https://github.com/huggingface/safetensors) by hand, because the
`safetensors` package is not installed for Debian's python3 here. Same call as
`safetensors.torch.save_file`, so either can write the weights Swift loads.

Layout: an 8-byte little-endian header length, a JSON header mapping each tensor name to its
dtype, shape and byte range in the data (plus an optional `__metadata__` of strings), padded with
spaces to a multiple of 8, then the tensors' raw little-endian bytes.
"""
import json
import struct

import numpy as np


def save_file(tensors, path, metadata=None):
    """tensors: name → float32 torch tensor; metadata: str → str."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().cpu().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(key): str(value) for key, value in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)))
        file.write(text)
        for blob in blobs:
            file.write(blob)


def _header(path):
    with open(path, "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        return json.loads(file.read(length))


def load_metadata(path):
    """The file's `__metadata__` (str → str), empty when it has none."""
    return _header(path).get("__metadata__", {})


def load_file(path):
    """name → float32 numpy array: for checking what save_file wrote."""
    with open(path, "rb") as file:
        raw = file.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    header.pop("__metadata__", None)
    data = raw[8 + length:]
    return {name: np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"])
            for name, entry in header.items() for begin, end in [entry["data_offsets"]]}
