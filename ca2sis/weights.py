"""The model manager: which weights exist, where they are, whether they are intact, and loading by name.

Two manifests describe models, both JSON with a ``models`` list of :class:`ModelEntry` fields:

* ``models/manifest.json`` (bundled, read-only for the program): the weights shipped with the project
  and the well-known files a user may add (the authors' checkpoint, facexlib's parsers and detector,
  torchvision's VGG19), each with where to get it and which folder it belongs in;
* ``<user models>/manifest.json``: what the user registered with ``main.py models add PATH`` (written
  atomically by :func:`register_model`), plus an optional ``default`` model name.

An entry's ``file`` is relative to its ``location``: ``bundled`` (``models/``) or ``user``
(:func:`ca2sis.paths.user_models_dir`). The default synthesis model is the user's chosen default, else
the authors' checkpoint when installed, else the bundled demo. Nothing here imports torch until a
model is actually loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ca2sis import paths
from ca2sis.atomic import atomic_write_json
from ca2sis.safe_files import FileRefused, check_regular, read_bytes

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
KINDS = ("synthesis", "parser", "perceptual", "detector")
LOCATIONS = ("bundled", "user")
DEMO = "demo-128"
AUTHORS = "ca2sis-celebamask-256"  # the authors' CelebAMask-HQ generator, once the user adds it
AUTHORS_FILE = "latest_net_G.pth"  # its release name; also found when simply dropped in the user folder


class ModelError(ValueError):
    """A model name, file or manifest that cannot be used; the message says what and why."""


class ChecksumMismatch(ModelError):
    """A weights file whose SHA-256 differs from the one its manifest records."""


# A model name becomes a file name in the models folder, so it is a plain name: no folders, no
# "..", nothing a file system treats specially, nothing a shell or a manifest reader trips on.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_MANIFEST_BYTES = 4 << 20


def check_name(name: object) -> str:
    """``name`` when it can name a model (and its file); else a :class:`ModelError` saying what is allowed."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or ".." in name or name.endswith("."):
        raise ModelError(
            f"{name!r} cannot name a model: use 1 to 64 letters, digits, '.', '_', '+' or '-', "
            "starting with a letter or digit (no folders, no '..')"
        )
    if name.split(".")[0].upper() in _RESERVED:
        raise ModelError(f"{name!r} cannot name a model: {name.split('.')[0]} is a reserved file name on Windows")
    return name


def name_from_file(stem: str) -> str:
    """A valid model name made from a file's stem ("my model (2)" → "my_model_2")."""
    name = re.sub(r"[^A-Za-z0-9._+-]+", "_", stem).strip("._-+")[:64].rstrip("._-+")
    name = re.sub(r"\.{2,}", ".", name)
    try:
        return check_name(name)
    except ModelError:
        return "model"


def check_relative_file(file: object, origin: str) -> str:
    """A manifest's ``file``: a relative path that stays inside its models folder."""
    parts = file.split("/") if isinstance(file, str) else []
    if not parts or file.startswith("/") or "\\" in file or any(p in ("", ".", "..") for p in parts) or (
        ":" in file
    ):
        raise ModelError(f"{origin}: {file!r} is not a file inside the models folder")
    return file


@dataclass(frozen=True)
class ModelEntry:
    name: str
    file: str  # relative to the location's folder
    kind: str  # synthesis | parser | perceptual | detector
    source: str  # how it was made / who published it
    license: str
    description: str = ""
    preset: str | None = None  # synthesis: the ModelConfig preset it was built from
    resolution: int | None = None
    classes: int | None = None
    sha256: str | None = None  # None: unknown (a file not shipped with the project)
    location: str = "bundled"  # bundled | user
    url: str | None = None  # where to download it when missing
    instructions: str | None = None  # what to do with the download
    extra: dict[str, Any] = field(default_factory=dict)  # free-form provenance (training recipe, ...)

    def __post_init__(self) -> None:
        check_name(self.name)
        check_relative_file(self.file, f"model {self.name!r}")
        for key in ("source", "license", "description"):
            if not isinstance(getattr(self, key), str):
                raise ModelError(f"model {self.name!r}: {key} must be a text")
        if self.kind not in KINDS:
            raise ModelError(f"model {self.name!r}: unknown kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.location not in LOCATIONS:
            raise ModelError(f"model {self.name!r}: unknown location {self.location!r}; use bundled or user")

    @staticmethod
    def from_dict(data: dict[str, Any], origin: str) -> ModelEntry:
        if not isinstance(data, dict):
            raise ModelError(f"{origin}: a model entry must be an object, got {data!r:.80}")
        known = {f.name for f in fields(ModelEntry)}
        missing = {"name", "file", "kind", "source", "license"} - set(data)
        if missing:
            raise ModelError(f"{origin}: a model entry lacks {', '.join(sorted(missing))}: {data}")
        unknown = set(data) - known
        if unknown:
            raise ModelError(f"{origin}: model {data.get('name')!r} has unknown fields {', '.join(sorted(unknown))}")
        try:
            return ModelEntry(**data)
        except ModelError as exc:
            raise ModelError(f"{origin}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, "")}


@dataclass(frozen=True)
class InstalledModel:
    """An entry with its resolved path and whether the file is there."""

    entry: ModelEntry
    path: Path
    installed: bool


def sha256_of(path: Path, progress: bool = False) -> str:
    """The file's SHA-256 in hex, read in 1 MiB chunks (with a progress bar for big files)."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    bar = None
    if progress and size > 64 << 20:
        from tqdm import tqdm

        bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"checking {path.name}")
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            if bar is not None:
                bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return digest.hexdigest()


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"models": []}
    try:
        data = json.loads(read_bytes(path, "model manifest", MAX_MANIFEST_BYTES).decode("utf-8"))
    except FileRefused as exc:
        raise ModelError(str(exc)) from None
    except (OSError, UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not a readable model manifest ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("models", []), list):
        raise ModelError(f"{path}: a model manifest must be an object with a 'models' list")
    return data


def _write_manifest(path: Path, data: dict[str, Any]) -> None:
    atomic_write_json(path, data)


class Catalog:
    """The bundled and the user's manifests together. Cheap to build: it only reads two small files."""

    def __init__(self, bundled_dir: Path | None = None, user_dir: Path | None = None) -> None:
        self.bundled_dir = Path(bundled_dir) if bundled_dir is not None else paths.BUNDLED_MODELS
        self.user_dir = Path(user_dir) if user_dir is not None else paths.user_models_dir()
        bundled = _read_manifest(self.bundled_dir / MANIFEST)
        user = _read_manifest(self.user_dir / MANIFEST)
        default = user.get("default")
        self.user_default: str | None = default if isinstance(default, str) else None
        # Entries of the user's manifest that cannot be used: skipped with a message for each, so one
        # bad entry (written by hand, or by an older version) never stops the others from working.
        self.problems: list[str] = []
        entries: dict[str, ModelEntry] = {}
        for data, origin, forced in ((bundled, self.bundled_dir / MANIFEST, None),
                                     (user, self.user_dir / MANIFEST, "user")):
            for raw in data.get("models", []):
                try:
                    entry = ModelEntry.from_dict(raw, str(origin))
                except ModelError as exc:
                    if forced is None:  # the bundled manifest ships with the program: a real defect
                        raise
                    self.problems.append(f"{exc}; this entry is ignored")
                    log.warning("%s; this entry is ignored", exc)
                    continue
                # A user's registration replaces the bundled placeholder of the same name (the authors').
                entries[entry.name] = replace(entry, location=forced) if forced else entry
        self.entries = entries

    def folder(self, entry: ModelEntry) -> Path:
        return self.bundled_dir if entry.location == "bundled" else self.user_dir

    def resolve(self, entry: ModelEntry) -> InstalledModel:
        path = self.folder(entry) / entry.file
        return InstalledModel(entry, path, path.is_file())

    def get(self, name: str) -> InstalledModel:
        if name not in self.entries:
            known = ", ".join(sorted(self.entries)) or "none"
            raise ModelError(f"no model named {name!r}; known models: {known} (see `python main.py models`)")
        return self.resolve(self.entries[name])

    def all(self) -> list[InstalledModel]:
        return [self.resolve(e) for e in self.entries.values()]

    def default_synthesis(self) -> Path | None:
        candidates = [self.user_default, AUTHORS]
        for name in candidates:
            if name and name in self.entries:
                found = self.resolve(self.entries[name])
                if found.installed and found.entry.kind == "synthesis":
                    return found.path
        dropped = self.user_dir / AUTHORS_FILE  # placed by hand, never registered
        if dropped.is_file():
            return dropped
        if DEMO in self.entries:
            demo = self.resolve(self.entries[DEMO])
            if demo.installed:
                return demo.path
        return None


def catalog() -> Catalog:
    return Catalog()


def list_models(kind: str | None = None) -> list[InstalledModel]:
    """Every known model (installed or not), optionally of one kind."""
    return [m for m in catalog().all() if kind is None or m.entry.kind == kind]


def model_path(name: str) -> Path:
    """The file of an installed model; a clear error when it is unknown or missing."""
    found = catalog().get(name)
    if not found.installed:
        raise ModelError(f"model {name!r} is not installed: {found.path} is missing. {how_to_get(found.entry)}")
    return found.path


def default_model() -> Path | None:
    """The synthesis weights to use when none are named: the user's default, the authors' checkpoint
    when registered, else the bundled demo; None when none is installed."""
    try:
        return catalog().default_synthesis()
    except ModelError as exc:  # a damaged user manifest must not stop the app from starting
        log.warning("%s", exc)
        fallback = paths.BUNDLED_MODELS / f"{DEMO}.safetensors"
        return fallback if fallback.is_file() else None


def how_to_get(entry: ModelEntry) -> str:
    if entry.instructions:
        return entry.instructions
    if entry.url:
        return f"Download {entry.url} into {(Catalog().folder(entry) / entry.file).parent}/"
    return "Reinstall the project to restore the bundled file."


_VERIFIED: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) → sha256, to hash each file once


def verify(name: str, progress: bool = True) -> Path:
    """Check an installed model's SHA-256 against its manifest; returns its path.

    Raises :class:`ChecksumMismatch` when the file differs (a damaged or swapped file is never loaded)
    and :class:`ModelError` when the model is unknown or missing. A file with no recorded checksum
    passes with a logged note.
    """
    path = model_path(name)
    entry = catalog().entries[name]
    if not entry.sha256:
        log.info("%s: no checksum recorded; not verified", name)
        return path
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    actual = _VERIFIED.get(key) or sha256_of(path, progress=progress)
    if actual != entry.sha256.lower():
        raise ChecksumMismatch(
            f"model {name!r}: {path} has SHA-256 {actual[:16]}…, the manifest expects {entry.sha256[:16]}…; "
            "the file is damaged or was replaced. Restore it (or `main.py models add` it again) before use."
        )
    _VERIFIED[key] = actual
    return path


def _unique_name(base: str, taken: set[str]) -> str:
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    return name


def _place(source: Path, target: Path) -> None:
    """Hard-link when possible (instant, no extra space), else copy through a temp file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    Path(tmp).unlink()
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def register_model(path: str | Path, name: str | None = None, make_default: bool | None = None,
                   description: str = "") -> ModelEntry:
    """Add a synthesis checkpoint (the authors' ``latest_net_G.pth`` or one of ours) to the user's models.

    The file is loaded first (a file that does not load is refused and nothing is written), then
    linked or copied into the user's models folder and recorded in its manifest. The authors'
    checkpoint becomes the default unless ``make_default`` is False; other models only when it is True.
    """
    from ca2sis.checkpoint import PICKLE_SUFFIXES, load_model
    from ca2sis.official import CheckpointMismatch

    source = Path(path).expanduser()
    if name is not None:
        check_name(name)  # before anything is read: the name becomes a path in the models folder
    try:
        check_regular(source, "weights file")
    except FileRefused as exc:
        raise ModelError(f"cannot register {exc}") from None
    try:
        model, config, meta = load_model(source)
    except (CheckpointMismatch, ValueError, OSError, RuntimeError) as exc:
        raise ModelError(f"cannot register {source}: it does not load as a (CA)²-SIS generator ({exc})") from exc
    del model
    authors = meta.get("source") == "authors' release"
    cat = catalog()
    user_names = {e.name for e in cat.entries.values() if e.location == "user"}
    if name is None:
        name = AUTHORS if authors else _unique_name(name_from_file(source.stem), set(cat.entries))
    elif name in cat.entries and name not in user_names and name != AUTHORS:
        raise ModelError(f"the name {name!r} belongs to a bundled model; choose another with --name")
    suffix = ".pth" if source.suffix.lower() in PICKLE_SUFFIXES else ".safetensors"  # how load_model reads it
    target = cat.user_dir / f"{name}{suffix}"
    if target.parent.resolve() != cat.user_dir.resolve():  # check_name makes this impossible; kept as a guard
        raise ModelError(f"{name!r} would be written outside {cat.user_dir}")
    if source.resolve() != target.resolve():
        _place(source, target)
    entry = ModelEntry(
        name=name, file=target.name, kind="synthesis", location="user",
        source="the authors' CelebAMask-HQ release" if authors else meta.get("source", f"registered from {source}"),
        license=meta.get("license", "see the checkpoint's publisher"),
        description=description or meta.get("description", f"registered from {source}"),
        preset=config.name, resolution=config.resolution, classes=config.num_classes,
        sha256=sha256_of(target, progress=True),
    )
    data = _read_manifest(cat.user_dir / MANIFEST)
    # Entries that cannot be read are kept as they are: they are the user's, and `main.py models` names them.
    kept = [m for m in data.get("models", []) if not (isinstance(m, dict) and m.get("name") == name)]
    data["models"] = kept + [entry.to_dict()]
    if make_default or (make_default is None and authors):
        data["default"] = name
    _write_manifest(cat.user_dir / MANIFEST, data)
    log.info("registered %s as %r in %s", source, name, cat.user_dir)
    return entry


def load_editor(name: str | None = None, device: str = "auto", precision: str = "auto", check: bool = True):
    """An :class:`ca2sis.editor.Editor` for a model by name (default: :func:`default_model`), its checksum
    verified first."""
    from ca2sis.editor import Editor

    if name is None:
        path = default_model()
        if path is None:
            raise ModelError("no synthesis model is installed; see `python main.py models`")
        named = {m.path.resolve(): m.entry.name for m in list_models("synthesis") if m.installed}
        name = named.get(path.resolve())
        if name is None:  # a file dropped by hand: nothing to verify it against
            return Editor.load(path, device=device, precision=precision)
    found = catalog().get(name)
    if found.entry.kind != "synthesis":
        raise ModelError(f"model {name!r} is a {found.entry.kind} model, not a synthesis one")
    path = verify(name, progress=True) if check else model_path(name)
    return Editor.load(path, device=device, precision=precision)


__all__ = [
    "AUTHORS", "DEMO", "Catalog", "ChecksumMismatch", "InstalledModel", "ModelEntry", "ModelError",
    "catalog", "default_model", "how_to_get", "list_models", "load_editor", "model_path", "register_model",
    "sha256_of", "verify",
]
