"""The inference facade: the one class the GUI and scripts use to run (CA)²-SIS.

    editor = Editor.load("models/demo-128.safetensors")        # or the authors' latest_net_G.pth
    styles = editor.encode_style(photo, photo_mask)             # C×D, cached per (photo, mask)
    shapes = editor.embed_mask(mask)                            # K×T, cached per mask
    image  = editor.generate(shapes, styles)                    # H×W×3 uint8

Encodings are cached by content, so an edit that only changes sliders or one class's style re-runs
the generator alone. :meth:`render` does a whole edit described by a :class:`RenderRequest`.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ca2sis import editing
from ca2sis.checkpoint import load_model
from ca2sis.classes import CELEBAMASK_HQ, ClassTable
from ca2sis.device import PRECISIONS, describe, resolve_device, resolve_precision
from ca2sis.fit import FitConfig, FitMismatch, FitState, default_config
from ca2sis.fit.adapters import check_against, fingerprint, merged_copy
from ca2sis.inputs import check_mask, check_pair, resize_image, resize_mask
from ca2sis.model import CA2SIS
from ca2sis.requests import RenderCancelled, RenderRequest, RenderResult, content_key
from ca2sis.tensors import image_to_tensor, one_hot, tensor_to_image


class _LRU(OrderedDict):
    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.capacity:
            self.popitem(last=False)

    def find(self, key):
        if key in self:
            self.move_to_end(key)
            return self[key]
        return None


class _CancelCheck:
    """The generator layers' pre-forward hook that stops a render whose result would be stale.

    Copies of the generator (a fit's private one) share it rather than copy it, so one ``asked``
    reaches every copy, and copying a generator never copies what the hook would be bound to.
    """

    def __init__(self) -> None:
        self.asked: Callable[[], bool] | None = None

    def __call__(self, module, args) -> None:
        if self.asked is not None and self.asked():
            raise RenderCancelled("the render was cancelled")

    def __deepcopy__(self, memo) -> _CancelCheck:
        return self


class Editor:
    """Run a (CA)²-SIS model for editing, on CPU or CUDA, with cached encodings.

    The editor takes ownership of ``model``: it moves it to the chosen device and precision.
    """

    def __init__(self, model: CA2SIS, device: str = "auto", precision: str = "auto", name: str | None = None,
                 metadata: dict[str, str] | None = None, classes: ClassTable | None = None) -> None:
        self.device = resolve_device(device)
        self.precision = resolve_precision(self.device, precision)
        compute = PRECISIONS[self.precision]
        # On CUDA, autocast keeps normalisations and softmax in fp32 (fp16 overflows there); on the
        # CPU, bf16 weights avoid re-casting every parameter on every call.
        self._autocast = compute if self.device.type == "cuda" and compute != torch.float32 else None
        self.dtype = torch.float32 if self._autocast else compute
        self.config = model.config
        self.fingerprint = fingerprint(model, self.config.to_json())  # of the weights as loaded, before casts
        self.model = model.to(self.device, self.dtype).eval().requires_grad_(False)
        if self.device.type == "cpu":
            # oneDNN convolutions run without layout reorders in NHWC, and the transformers'
            # flatten-to-tokens becomes a view: about 15% off a 256² render on a 2-core CPU.
            self.model.to(memory_format=torch.channels_last)
        else:
            # Pixel slices keep a CPU's cache warm; on a GPU they only multiply kernel launches.
            self.model.set_token_chunk(0)
        self.metadata = dict(metadata or {})
        self.model_name = name or self.metadata.get("name") or self.config.name
        if classes is None:
            classes = CELEBAMASK_HQ if self.config.num_classes == 19 else ClassTable.generic(self.config.num_classes)
        self.classes = classes
        self.resolution = self.config.resolution
        self.device_label = describe(self.device, self.precision)
        # A model trained without its second stage has an untrained mapping network.
        self.has_mapping = self.metadata.get("mapping", "trained") != "untrained"
        self._faces = _LRU(64)  # key → (image, mask) at model resolution
        self._masks = _LRU(64)  # key → mask at model resolution
        self._styles = _LRU(64)  # face key → C×D styles (device)
        self._shapes = _LRU(64)  # mask key → K×T shape codes (device)
        self._random = _LRU(64)  # seed → C×D styles from the mapping network (device)
        self._fits = _LRU(32)  # fit key → FitState
        self._fitted = _LRU(2)  # fit key → a private generator with the fit merged in
        self.calls = {"style_encoder": 0, "mask_embedder": 0, "generator": 0, "mapping": 0}
        # A render whose result would be stale stops before the generator's next layer (see render()):
        # on a 2-core CPU the demo model stops within about a millisecond.
        self._cancel = _CancelCheck()
        for module in self.model.generator.stages.modules():
            module.register_forward_pre_hook(self._cancel)

    @classmethod
    def load(cls, weights: str | Path, device: str = "auto", precision: str = "auto") -> Editor:
        """Load one of our safetensors files or the authors' ``latest_net_G.pth``.

        A file that is not a matching checkpoint raises ``ValueError`` naming what does not match.
        """
        model, _, meta = load_model(weights)
        meta.setdefault("name", Path(weights).stem)
        return cls(model, device, precision, metadata=meta)

    # -- inputs ---------------------------------------------------------------------------------
    def _prepare_pair(self, image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        image, mask = check_pair(image, mask, self.config.num_classes)
        return resize_image(image, self.resolution), resize_mask(mask, self.resolution)

    def _prepare_mask(self, mask: np.ndarray) -> np.ndarray:
        return resize_mask(check_mask(mask, self.config.num_classes), self.resolution)

    def _precision(self):
        if self._autocast is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self._autocast)

    def _onehot(self, mask: np.ndarray) -> torch.Tensor:
        labels = torch.from_numpy(mask.astype(np.int64))[None].to(self.device)
        return one_hot(labels, self.config.num_classes).to(self.dtype)

    # -- registration and cached encodings ------------------------------------------------------
    def add_face(self, image: np.ndarray, mask: np.ndarray) -> str:
        """Register a photo and its mask as a style source; returns its key."""
        image, mask = self._prepare_pair(image, mask)
        key = content_key(image, mask)
        if self._faces.find(key) is None:
            self._faces.put(key, (image, mask))
        return key

    def add_mask(self, mask: np.ndarray) -> str:
        """Register a layout (the one being edited, or a shape reference); returns its key."""
        mask = self._prepare_mask(mask)
        key = content_key(mask)
        if self._masks.find(key) is None:
            self._masks.put(key, mask)
        return key

    def _face(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        face = self._faces.find(key)
        if face is None:
            raise KeyError(f"no face registered under {key!r}; call add_face first")
        return face

    def _mask(self, key: str) -> np.ndarray:
        if key in self._faces and key not in self._masks:
            return self._faces[key][1]  # a face's own mask serves as a shape reference too
        mask = self._masks.find(key)
        if mask is None:
            raise KeyError(f"no mask registered under {key!r}; call add_mask first")
        return mask

    @torch.no_grad()
    def _styles_of(self, key: str) -> torch.Tensor:
        styles = self._styles.find(key)
        if styles is None:
            image, mask = self._face(key)
            x = image_to_tensor(image).to(self.device, self.dtype)
            with self._precision():
                styles = self.model.encode_style(x, self._onehot(mask))[0].to(self.dtype)
            self.calls["style_encoder"] += 1
            self._styles.put(key, styles)
        return styles

    @torch.no_grad()
    def _shapes_of(self, key: str) -> torch.Tensor:
        shapes = self._shapes.find(key)
        if shapes is None:
            with self._precision():
                shapes = self.model.embed_mask(self._onehot(self._mask(key)))[0].to(self.dtype)
            self.calls["mask_embedder"] += 1
            self._shapes.put(key, shapes)
        return shapes

    # -- the paper's building blocks ------------------------------------------------------------
    def encode_style(self, image: np.ndarray, mask: np.ndarray) -> torch.Tensor:
        """Per-class style codes (C×D, float32, CPU) of a photo read through its mask."""
        return self._styles_of(self.add_face(image, mask)).float().cpu()

    def embed_mask(self, mask: np.ndarray) -> torch.Tensor:
        """Per-class shape codes (K×T, float32, CPU) of a layout."""
        return self._shapes_of(self.add_mask(mask)).float().cpu()

    @torch.no_grad()
    def _mapped(self, seed: int) -> torch.Tensor:
        styles = self._random.find(seed)
        if styles is None:  # cached: an α slider on a random style re-runs the generator alone
            z = editing.noise(seed, self.config.mapping_dim).to(self.device, self.dtype)
            with self._precision():
                styles = self.model.sample_styles(z)[0].to(self.dtype)
            self.calls["mapping"] += 1
            self._random.put(seed, styles)
        return styles

    def random_styles(self, seed: int, mask: np.ndarray | None = None) -> torch.Tensor:
        """Styles from the mapping network for ``seed`` (C×D); rows of classes absent from ``mask`` are 0."""
        styles = self._mapped(seed)
        if mask is not None:
            styles = editing.zero_absent(styles, self._onehot(self._prepare_mask(mask))[0])
        return styles.float().cpu()

    @torch.no_grad()
    def generate(self, shape_codes: torch.Tensor, style_codes: torch.Tensor,
                 attention_class: int | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Render H×W×3 uint8 from codes; with ``attention_class`` also return that class's attention map."""
        image, attention = self._generate(shape_codes, style_codes, attention_class)
        return image if attention_class is None else (image, attention)

    def _generate(self, shapes: torch.Tensor, styles: torch.Tensor, attention_class: int | None,
                  timings: dict[str, float] | None = None, generator: torch.nn.Module | None = None):
        cfg = self.config
        if tuple(shapes.shape[-2:]) != (cfg.shape_classes, cfg.token_dim):
            raise ValueError(f"shape codes must be {cfg.shape_classes}×{cfg.token_dim}, got {tuple(shapes.shape)}")
        if tuple(styles.shape[-2:]) != (cfg.num_classes, cfg.context_dim):
            raise ValueError(f"style codes must be {cfg.num_classes}×{cfg.context_dim}, got {tuple(styles.shape)}")
        shapes = shapes.reshape(1, *shapes.shape[-2:]).to(self.device, self.dtype)
        styles = styles.reshape(1, *styles.shape[-2:]).to(self.device, self.dtype)
        want = attention_class is not None
        if want and not 0 <= attention_class < cfg.num_classes:
            raise ValueError(f"class id {attention_class} is outside 0..{cfg.num_classes - 1}")
        t = time.perf_counter()
        with torch.no_grad(), self._precision():
            out, captures = (generator or self.model.generator)(shapes, styles, capture=want)
        self.calls["generator"] += 1
        t_image = time.perf_counter()
        attention = self._attention_map(captures, attention_class) if want else None
        image = tensor_to_image(out)
        if timings is not None:
            timings["generate"] = t_image - t
            timings["to_image"] = time.perf_counter() - t_image
        return image, attention

    def _attention_map(self, captures, cls: int) -> np.ndarray:
        """Mean over layers of the head-averaged softmax weight that pixels give class ``cls``."""
        size = (self.resolution, self.resolution)
        maps = [F.interpolate(c.probabilities[:, cls : cls + 1].float(), size=size, mode="bilinear",
                              align_corners=False) for c in captures]
        return torch.stack(maps).mean(0)[0, 0].clamp(0, 1).cpu().numpy()

    # -- whole edits ----------------------------------------------------------------------------
    def reconstruct(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        key = self.add_face(image, mask)
        return self._generate(self._shapes_of(key), self._styles_of(key), None)[0]

    def swap_style(self, styles: torch.Tensor, reference: torch.Tensor, classes: Iterable[int]) -> torch.Tensor:
        return editing.swap_styles(styles, reference, classes)

    def blend_style(self, styles: torch.Tensor, reference: torch.Tensor, cls: int, alpha: float) -> torch.Tensor:
        return editing.blend_style(styles, reference, cls, alpha)

    def transfer_styles(self, styles: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return editing.transfer_all_styles(styles, reference)

    def interpolate_shape(self, codes: torch.Tensor, reference: torch.Tensor, cls: int, alpha: float) -> torch.Tensor:
        return editing.interpolate_shape(codes, reference, cls, alpha, self.config.num_classes,
                                         self.config.exclude_background)

    def transfer_shape(self, codes: torch.Tensor, reference: torch.Tensor, cls: int) -> torch.Tensor:
        return editing.transfer_shape(codes, reference, cls, self.config.num_classes, self.config.exclude_background)

    @torch.no_grad()
    def render(self, request: RenderRequest, *, cancelled: Callable[[], bool] | None = None) -> RenderResult:
        """Render one edit. Only encodings that are not cached yet are computed.

        ``cancelled`` is asked between the generator's layers; once it returns True the render stops
        with :class:`~ca2sis.requests.RenderCancelled` (an interactive caller whose input moved on).
        """
        self._cancel.asked = cancelled
        try:
            return self._render(request)
        finally:
            self._cancel.asked = None

    def _render(self, request: RenderRequest) -> RenderResult:
        start = time.perf_counter()
        timings: dict[str, float] = {}
        t = time.perf_counter()
        shapes = self._shapes_of(request.mask_key)
        if request.shape_all is not None:
            shapes = editing.interpolate_all_shapes(shapes, self._shapes_of(request.shape_all.reference),
                                                    request.shape_all.alpha)
        for cls, src in request.shapes:
            shapes = editing.interpolate_shape(shapes, self._shapes_of(src.reference), cls, src.alpha,
                                               self.config.num_classes, self.config.exclude_background)
        fit = self._fit_for(request)
        if fit is not None:
            styles = torch.from_numpy(fit.styles).to(self.device, self.dtype)
        elif request.own_key is not None:
            styles = self._styles_of(request.own_key)
        else:
            styles = editing.zero_absent(self._mapped(request.seed), self._onehot(self._mask(request.mask_key))[0])
        for cls, src in request.styles:
            if src.kind == "own":
                continue
            other = self._styles_of(src.reference) if src.kind == "reference" else self._mapped(src.seed)
            styles = editing.blend_style(styles, other, cls, src.alpha)
        timings["encode"] = time.perf_counter() - t
        generator = None if fit is None else self._fitted_generator(request.fit)
        image, attention = self._generate(shapes, styles, request.attention_class, timings, generator)
        return RenderResult(image, time.perf_counter() - start, attention, timings)

    # -- fit to photo (ca2sis.fit) ----------------------------------------------------------------
    def fit(self, face_key: str, config: FitConfig | None = None, *, steps: int | None = None,
            seed: int | None = None, progress=None, cancel=None):
        """Fit the model to a registered photo; returns a :class:`ca2sis.fit.session.FitResult`.

        ``config`` defaults to the editor's default fit (``steps``/``seed`` override its fields).
        ``progress(stage, fraction)`` is called after every step; when ``cancel()`` turns true the
        fit stops with :class:`ca2sis.fit.FitCancelled` and nothing is registered. The model itself
        is never changed: render the photo with ``RenderRequest(..., fit=result.key)``.
        """
        from ca2sis.fit.session import fit_face

        if face_key not in self._faces:
            raise KeyError(f"no face registered under {face_key!r}; call add_face first")
        config = config or default_config()
        changes = {k: v for k, v in (("steps", steps), ("seed", seed)) if v is not None}
        config = config.replace(**changes) if changes else config
        return fit_face(self, face_key, config, progress, cancel)

    def add_fit(self, fit: FitState | bytes) -> str:
        """Register a fit (a state or its bytes) after checking it was made with this model; returns its key."""
        state = fit if isinstance(fit, FitState) else FitState.from_bytes(fit)
        state.check_model(self.fingerprint, self.model_name)
        if state.styles.shape != (self.config.num_classes, self.config.context_dim):
            raise FitMismatch(f"the fit's style codes are {state.styles.shape}, this model's "
                              f"{(self.config.num_classes, self.config.context_dim)}")
        check_against(self.model.generator, state.adapters)
        self._fits.put(state.key, state)
        return state.key

    def remove_fit(self, key: str) -> None:
        """Forget a fit, named by its key or by its face's key (every fit of that face)."""
        for fit_key in [k for k, s in self._fits.items() if key in (k, s.face_key)]:
            del self._fits[fit_key]
            self._fitted.pop(fit_key, None)

    def fit_state(self, key: str) -> FitState:
        state = self._fits.find(key)
        if state is None:
            raise KeyError(f"no fit registered under {key!r}")
        return state

    def export_fit(self, key: str) -> bytes:
        """The fit as safetensors bytes (it names this model; ``add_fit`` elsewhere checks that)."""
        return self.fit_state(key).to_bytes()

    def _fit_for(self, request: RenderRequest) -> FitState | None:
        if request.fit is None:
            return None
        state = self.fit_state(request.fit)
        if state.face_key != request.own_key:
            raise ValueError("the request names a fit of another face than its own face")
        return state

    def _fitted_generator(self, key: str) -> torch.nn.Module:
        generator = self._fitted.find(key)
        if generator is None:
            generator = merged_copy(self.model.generator, self.fit_state(key).adapters)
            self._fitted.put(key, generator)
        return generator
