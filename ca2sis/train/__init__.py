"""Training (CA)²-SIS: losses, the loop, checkpoints and resume, EMA, DDP, logging.

Start from :class:`ca2sis.train.loop.Trainer` or ``python main.py train``; see README.md beside this
file for the recipe, the options and multi-GPU / multi-node launches.
"""
