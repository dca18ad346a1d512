"""The air gap: archives, shipments, shipping on the connected side and receiving on the disconnected one."""
