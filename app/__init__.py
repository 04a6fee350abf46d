"""CA2SIS Studio, the desktop face editor (PySide6). Reaches torch only through :mod:`ca2sis`."""

from app._singletons import make_singletons_immortal

make_singletons_immortal()
