"""What this CPU can do for int8 and bf16: a CpuProfile from /proc/cpuinfo, macOS sysctl, or a saved text.

Detection must be instant and must not import torch: reading /proc/cpuinfo takes about a millisecond.
When torch happens to be loaded already, its own CPUID view is used as a cross-check.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

CANONICAL_FEATURES: tuple[str, ...] = (
    "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
    "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16", "neon", "dotprod", "i8mm", "sve", "sve2", "bf16", "fp16",
)

# Linux x86 `flags` spellings → canonical names (most are identical).
X86_FLAGS = {
    "sse4_2": "sse4_2", "avx": "avx", "avx2": "avx2", "fma": "fma",
    "avx512f": "avx512f", "avx512bw": "avx512bw", "avx512vl": "avx512vl",
    "avx512_vnni": "avx512_vnni", "avx_vnni": "avx_vnni", "avx512_bf16": "avx512_bf16",
    "amx_tile": "amx_tile", "amx_int8": "amx_int8", "amx_bf16": "amx_bf16", "avx512_fp16": "fp16",
}

# Linux ARM `Features` spellings → canonical names.
ARM_FEATURES = {
    "asimd": "neon", "neon": "neon", "asimddp": "dotprod", "asimdhp": "fp16", "fphp": "fp16",
    "i8mm": "i8mm", "sve": "sve", "sve2": "sve2", "bf16": "bf16",
}

# macOS `sysctl hw.optional` keys → canonical names (Intel and Apple silicon Macs).
SYSCTL_FEATURES = {
    "hw.optional.sse4_2": "sse4_2", "hw.optional.avx1_0": "avx", "hw.optional.avx2_0": "avx2",
    "hw.optional.fma": "fma", "hw.optional.avx512f": "avx512f", "hw.optional.avx512bw": "avx512bw",
    "hw.optional.avx512vl": "avx512vl", "hw.optional.avx512vnni": "avx512_vnni",
    "hw.optional.neon": "neon", "hw.optional.AdvSIMD": "neon",
    "hw.optional.arm.FEAT_DotProd": "dotprod", "hw.optional.arm.FEAT_I8MM": "i8mm",
    "hw.optional.arm.FEAT_BF16": "bf16", "hw.optional.arm.FEAT_FP16": "fp16", "hw.optional.neon_fp16": "fp16",
}

# torch.cpu.get_capabilities() keys → canonical names, for the cross-check.
TORCH_CAPABILITIES = {
    "sse4_2": "sse4_2", "avx": "avx", "avx2": "avx2", "fma3": "fma", "avx512_f": "avx512f",
    "avx512_bw": "avx512bw", "avx512_vl": "avx512vl", "avx512_vnni": "avx512_vnni", "avx_vnni": "avx_vnni",
    "avx512_bf16": "avx512_bf16", "amx_tile": "amx_tile", "amx_int8": "amx_int8", "amx_bf16": "amx_bf16",
    "avx512_fp16": "fp16",
}

ARM_IMPLEMENTERS = {
    0x41: "ARM", 0x42: "Broadcom", 0x43: "Cavium", 0x46: "Fujitsu", 0x48: "HiSilicon", 0x4E: "NVIDIA",
    0x51: "Qualcomm", 0x61: "Apple", 0xC0: "Ampere",
}

ARM_PARTS = {
    (0x41, 0xD03): "Cortex-A53", (0x41, 0xD04): "Cortex-A35", (0x41, 0xD05): "Cortex-A55",
    (0x41, 0xD07): "Cortex-A57", (0x41, 0xD08): "Cortex-A72", (0x41, 0xD09): "Cortex-A73",
    (0x41, 0xD0A): "Cortex-A75", (0x41, 0xD0B): "Cortex-A76", (0x41, 0xD0C): "Neoverse-N1",
    (0x41, 0xD0D): "Cortex-A77", (0x41, 0xD40): "Neoverse-V1", (0x41, 0xD41): "Cortex-A78",
    (0x41, 0xD44): "Cortex-X1", (0x41, 0xD46): "Cortex-A510", (0x41, 0xD47): "Cortex-A710",
    (0x41, 0xD48): "Cortex-X2", (0x41, 0xD49): "Neoverse-N2", (0x41, 0xD4F): "Neoverse-V2",
    (0x41, 0xD84): "Neoverse-V3", (0x41, 0xD8E): "Neoverse-N3",
    (0x46, 0x001): "A64FX", (0x48, 0xD01): "TaiShan-v110", (0xC0, 0xAC3): "Ampere-1", (0xC0, 0xAC4): "Ampere-1a",
}

_X86_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}


@dataclass(frozen=True)
class KnownCpu:
    """A CPU generation whose int8/bf16 features are public knowledge, to notice what a VM hides."""

    name: str
    features: frozenset[str]


_AVX2 = frozenset({"avx", "avx2", "fma", "sse4_2"})
_AVX512 = _AVX2 | {"avx512f", "avx512bw", "avx512vl"}
_VNNI512 = _AVX512 | {"avx512_vnni"}
_ZEN4 = _VNNI512 | {"avx512_bf16"}
_SPR = _ZEN4 | {"avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}


def known_cpu(vendor_id: str | None, family: int | None, model: int | None, stepping: int | None) -> KnownCpu | None:
    """The generation of an x86 server/desktop CPU from its CPUID family/model, or None when unsure."""
    if family is None or model is None:
        return None
    if vendor_id == "AuthenticAMD":
        if family == 0x17:
            return KnownCpu("AMD Zen/Zen 2", _AVX2)
        if family == 0x19 and (0x10 <= model <= 0x1F or 0x60 <= model <= 0x7F or 0xA0 <= model <= 0xAF):
            return KnownCpu("AMD Zen 4", _ZEN4)
        if family == 0x19:
            return KnownCpu("AMD Zen 3", _AVX2)
        if family == 0x1A:
            return KnownCpu("AMD Zen 5", _ZEN4)
    if vendor_id == "GenuineIntel" and family == 6:
        if model == 0x55:
            if stepping is not None and stepping >= 5:
                return KnownCpu("Intel Cascade Lake", _VNNI512)
            return KnownCpu("Intel Skylake-SP", _AVX512)
        table = {
            0x2D: ("Intel Sandy Bridge-EP", frozenset({"avx", "sse4_2"})),
            0x3E: ("Intel Ivy Bridge-EP", frozenset({"avx", "sse4_2"})),
            0x3F: ("Intel Haswell-EP", _AVX2), 0x4F: ("Intel Broadwell-EP", _AVX2),
            0x6A: ("Intel Ice Lake-SP", _VNNI512), 0x6C: ("Intel Ice Lake-SP", _VNNI512),
            0x8F: ("Intel Sapphire Rapids", _SPR), 0xCF: ("Intel Emerald Rapids", _SPR),
            0xAD: ("Intel Granite Rapids", _SPR), 0xAE: ("Intel Granite Rapids", _SPR),
            0x97: ("Intel Alder Lake", _AVX2 | {"avx_vnni"}), 0x9A: ("Intel Alder Lake", _AVX2 | {"avx_vnni"}),
        }
        if model in table:
            name, features = table[model]
            return KnownCpu(name, features)
    return None


class CpuInfoError(ValueError):
    """A cpuinfo text or file qtui cannot use; the message is one line a user can act on."""


@dataclass(frozen=True)
class CpuProfile:
    arch: str
    vendor: str | None
    model: str | None
    logical_cpus: int | None
    physical_cores: int | None
    features: frozenset[str]
    source: str  # "this-machine" | "cpuinfo-file"
    hypervisor: bool | None = None  # None: the source cannot tell
    max_mhz: float | None = None
    generation: str | None = None  # e.g. "AMD Zen 3", from CPUID family/model
    notes: tuple[str, ...] = ()
    torch_view: tuple[str, ...] | None = field(default=None, compare=False)  # features torch sees, if loaded

    def has(self, *names: str) -> bool:
        return all(n in self.features for n in names)

    def has_any(self, *names: str) -> bool:
        return any(n in self.features for n in names)

    @property
    def is_x86(self) -> bool:
        return self.arch in ("x86_64", "i686", "i386", "AMD64")

    @property
    def is_arm(self) -> bool:
        return self.arch in ("aarch64", "arm64", "armv7l", "armv8l")

    @property
    def is_apple(self) -> bool:
        return self.vendor == "Apple"

    @property
    def has_bf16_hardware(self) -> bool:
        return self.has_any("avx512_bf16", "amx_bf16", "bf16")

    def sorted_features(self) -> list[str]:
        return [f for f in CANONICAL_FEATURES if f in self.features]

    def to_json(self) -> dict:
        return {
            "arch": self.arch,
            "vendor": self.vendor,
            "model": self.model,
            "logical_cpus": self.logical_cpus,
            "physical_cores": self.physical_cores,
            "features": self.sorted_features(),
            "hypervisor": self.hypervisor,
            "generation": self.generation,
            "max_mhz": self.max_mhz,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict, source: str = "report") -> CpuProfile:
        """Rebuild a profile from `to_json()` output (a saved report made on another machine)."""
        try:
            return cls(
                arch=str(data["arch"]),
                vendor=data.get("vendor"),
                model=data.get("model"),
                logical_cpus=data.get("logical_cpus"),
                physical_cores=data.get("physical_cores"),
                features=frozenset(f for f in data.get("features", []) if f in CANONICAL_FEATURES),
                source=source,
                hypervisor=data.get("hypervisor"),
                max_mhz=data.get("max_mhz"),
                generation=data.get("generation"),
                notes=tuple(data.get("notes", [])),
            )
        except (KeyError, TypeError) as exc:
            raise CpuInfoError(f"the cpu section is not a qtui CPU profile ({exc})") from None


# ---------------------------------------------------------------------------------------------- parsing


def _blocks(text: str) -> list[dict[str, str]]:
    """/proc/cpuinfo as a list of `key: value` blocks separated by blank lines."""
    blocks, current = [], {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            current.setdefault(key.strip().lower(), value.strip())
    if current:
        blocks.append(current)
    return blocks


def _int(value: str | None, base: int = 10) -> int | None:
    try:
        return int(value, base) if value is not None else None
    except ValueError:
        return None


def _mhz_from_model_name(model: str | None) -> float | None:
    """Intel model names carry the base clock ("@ 2.40GHz"); used when nothing better is known."""
    match = re.search(r"@\s*([\d.]+)\s*GHz", model or "")
    return float(match.group(1)) * 1000 if match else None


def parse_proc_cpuinfo(text: str, source: str = "cpuinfo-file") -> CpuProfile:
    """Parse Linux /proc/cpuinfo text (x86 or ARM)."""
    blocks = _blocks(text)
    processors = [b for b in blocks if "processor" in b and _int(b["processor"]) is not None]
    if not processors:
        raise CpuInfoError("no 'processor' entries: this is not a Linux /proc/cpuinfo or macOS sysctl text")
    first = processors[0]
    every = {k: v for b in blocks for k, v in b.items()}  # Pi-style trailers hold Hardware/Model

    if "flags" in first or "vendor_id" in first:
        return _parse_x86(processors, first, source)
    if "features" in first or "cpu implementer" in first:
        return _parse_arm(processors, first, every, source)
    raise CpuInfoError("neither x86 'flags' nor ARM 'Features' found in the cpuinfo text")


def _parse_x86(processors: list[dict], first: dict, source: str) -> CpuProfile:
    flags = set(first.get("flags", "").split())
    features = frozenset(X86_FLAGS[f] for f in flags if f in X86_FLAGS)
    cores = {(b.get("physical id"), b.get("core id")) for b in processors if "core id" in b}
    vendor_id = first.get("vendor_id")
    family, model_no, stepping = _int(first.get("cpu family")), _int(first.get("model")), _int(first.get("stepping"))
    model = first.get("model name")
    known = known_cpu(vendor_id, family, model_no, stepping)
    hypervisor = "hypervisor" in flags
    notes = []
    if known:
        hidden = sorted(known.features - features, key=CANONICAL_FEATURES.index)
        if hidden and hypervisor:
            notes.append(
                f"Family/model identify {known.name}, which has {', '.join(hidden)}, but this VM hides "
                f"{'it' if len(hidden) == 1 else 'them'}: kernels here cannot use "
                f"{'it' if len(hidden) == 1 else 'them'}. An instance type or CPU template that exposes "
                f"the host's features would."
            )
        elif hidden:
            notes.append(f"Family/model identify {known.name}, but {', '.join(hidden)} is missing from the flags.")
    if hypervisor and not notes:
        notes.append("Running under a hypervisor: the features listed are what the VM exposes.")
    return CpuProfile(
        arch="x86_64" if "lm" in flags or not flags else "i686",
        vendor=_X86_VENDORS.get(vendor_id or "", vendor_id),
        model=model,
        logical_cpus=len(processors),
        physical_cores=len(cores) if cores else None,
        features=features,
        source=source,
        hypervisor=hypervisor,
        max_mhz=_mhz_from_model_name(model) or _float(first.get("cpu mhz")),
        generation=known.name if known else None,
        notes=tuple(notes),
    )


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _parse_arm(processors: list[dict], first: dict, every: dict, source: str) -> CpuProfile:
    words = set(first.get("features", "").split())
    features = frozenset(ARM_FEATURES[w] for w in words if w in ARM_FEATURES)
    implementer, part = _int(first.get("cpu implementer"), 16), _int(first.get("cpu part"), 16)
    core = ARM_PARTS.get((implementer, part)) if implementer is not None and part is not None else None
    board = every.get("model")  # e.g. "Raspberry Pi 4 Model B Rev 1.4" in the Pi's trailer
    model = core or first.get("model name") or board
    if core and board and not board.isdigit():
        model = f"{core} ({board})"
    arch_field = first.get("cpu architecture", "8")
    return CpuProfile(
        arch="aarch64" if arch_field.startswith("8") or "AArch64" in arch_field else "armv7l",
        vendor=ARM_IMPLEMENTERS.get(implementer, f"0x{implementer:x}" if implementer is not None else None),
        model=model,
        logical_cpus=len(processors),
        # Arm server and Cortex cores have no SMT: one logical CPU per core.
        physical_cores=len(processors),
        features=features,
        source=source,
        hypervisor=None,  # ARM cpuinfo does not say
        max_mhz=None,
        generation=core,
        notes=(),
    )


def parse_sysctl(text: str, source: str = "cpuinfo-file") -> CpuProfile:
    """Parse macOS `sysctl hw.optional machdep.cpu.brand_string hw.ncpu hw.physicalcpu` output."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    if not any(k.startswith(("hw.", "machdep.")) for k in values):
        raise CpuInfoError("no hw.* or machdep.* keys: this is not macOS sysctl output")
    features = frozenset(canon for key, canon in SYSCTL_FEATURES.items() if values.get(key) == "1")
    brand = values.get("machdep.cpu.brand_string")
    apple_silicon = values.get("hw.optional.arm64") == "1" or (brand or "").startswith("Apple")
    if apple_silicon:
        features = features | {"neon"}  # every Apple silicon core has AdvSIMD
    return CpuProfile(
        arch="arm64" if apple_silicon else "x86_64",
        vendor="Apple" if apple_silicon else ("Intel" if "Intel" in (brand or "") else None),
        model=brand,
        logical_cpus=_int(values.get("hw.logicalcpu") or values.get("hw.ncpu")),
        physical_cores=_int(values.get("hw.physicalcpu")),
        features=features,
        source=source,
        hypervisor=None,
        max_mhz=_mhz_from_model_name(brand),
        generation=brand if apple_silicon else None,
        notes=(),
    )


def parse_cpuinfo_text(text: str, source: str = "cpuinfo-file") -> CpuProfile:
    """Either a Linux /proc/cpuinfo or a macOS sysctl dump, told apart by their keys."""
    if re.search(r"^\s*(hw\.|machdep\.)", text, re.MULTILINE) and not re.search(r"^processor\s*:", text, re.M):
        return parse_sysctl(text, source)
    return parse_proc_cpuinfo(text, source)


def load_cpuinfo_file(path: str | os.PathLike) -> CpuProfile:
    """A saved cpuinfo/sysctl text from another machine; every user mistake becomes a CpuInfoError."""
    p = Path(path)
    if not p.exists():
        raise CpuInfoError(f"--cpuinfo {p}: no such file; copy /proc/cpuinfo from the server and pass that file")
    if p.is_dir():
        raise CpuInfoError(f"--cpuinfo {p}: is a directory; pass a file saved from /proc/cpuinfo")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise CpuInfoError(f"--cpuinfo {p}: cannot read it ({exc.strerror})") from None
    if not data.strip():
        raise CpuInfoError(f"--cpuinfo {p}: is empty; save it with `cat /proc/cpuinfo > FILE` on the machine")
    if b"\0" in data[:8192]:
        raise CpuInfoError(f"--cpuinfo {p}: looks binary; pass the text of /proc/cpuinfo or `sysctl hw.optional`")
    try:
        return parse_cpuinfo_text(data.decode("utf-8", errors="replace"), source="cpuinfo-file")
    except CpuInfoError as exc:
        raise CpuInfoError(f"--cpuinfo {p}: {exc}") from None


# ---------------------------------------------------------------------------------------------- this machine


def _linux_max_mhz() -> float | None:
    try:
        khz = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text().strip()
        return int(khz) / 1000
    except (OSError, ValueError):
        return None


def _macos_sysctl() -> str:
    keys = ["hw.optional", "machdep.cpu.brand_string", "hw.ncpu", "hw.physicalcpu", "hw.logicalcpu"]
    return subprocess.run(["sysctl", *keys], capture_output=True, text=True, timeout=5).stdout


def detect() -> CpuProfile:
    """This machine, without importing torch (about a millisecond on Linux)."""
    profile = None
    try:
        if sys.platform.startswith("linux"):
            profile = parse_proc_cpuinfo(Path("/proc/cpuinfo").read_text(errors="replace"), "this-machine")
            mhz = _linux_max_mhz()
            if mhz:
                profile = replace(profile, max_mhz=mhz)
        elif sys.platform == "darwin":
            profile = parse_sysctl(_macos_sysctl(), "this-machine")
    except (OSError, CpuInfoError, subprocess.SubprocessError):
        profile = None
    if profile is None:
        profile = CpuProfile(
            arch=platform.machine() or "unknown", vendor=None, model=platform.processor() or None,
            logical_cpus=os.cpu_count(), physical_cores=None, features=frozenset(), source="this-machine",
            notes=("Could not read the CPU's feature flags on this OS; recommendations are guesses.",),
        )
    if "torch" in sys.modules:
        profile = cross_check_with_torch(profile)
    return profile


def torch_features() -> frozenset[str] | None:
    """The canonical features torch's own CPUID probe sees, if torch is already imported (never imports it)."""
    torch = sys.modules.get("torch")
    get_caps = getattr(getattr(torch, "cpu", None), "get_capabilities", None)
    if get_caps is None:
        return None
    try:
        caps = get_caps()
    except Exception:  # an older torch or an odd build: the cross-check is optional
        return None
    return frozenset(canon for key, canon in TORCH_CAPABILITIES.items() if caps.get(key))


def cross_check_with_torch(profile: CpuProfile) -> CpuProfile:
    """Compare the flags with what torch sees; a disagreement is worth a note, not a failure."""
    seen = torch_features()
    if seen is None or not profile.is_x86:
        return profile
    notes = list(profile.notes)
    only_flags = sorted(profile.features - seen - {"fp16"})
    only_torch = sorted(seen - profile.features - {"fp16"})
    if only_torch:
        notes.append(f"torch's CPUID probe also sees {', '.join(only_torch)}, which the kernel's flags omit.")
    if only_flags:
        notes.append(f"The kernel lists {', '.join(only_flags)}, which torch's CPUID probe does not see.")
    return replace(profile, torch_view=tuple(f for f in CANONICAL_FEATURES if f in seen), notes=tuple(notes))
