"""(CA)²-SIS: semantic image synthesis via class-adaptive cross-attention, and the tools around it.

This package never imports Qt. The GUI in ``app/`` reaches the model only through
:class:`ca2sis.editor.Editor`.
"""

__version__ = "0.1.0"
