"""Face parsing: portrait crop → 19-class CelebAMask-HQ index mask."""
