"""The two ends of a copy, a registry (`docker://`) and the on-disk store (`oci:`), behind one contract.

mirror to mirror = registry -> registry, mirror to disk = registry -> store,
disk to mirror = store -> registry. The contract is in `contract`.
"""
