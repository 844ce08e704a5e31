#!/usr/bin/env python3
"""Can TorchSharp's libLibTorchSharp.so run on this host's PyTorch libtorch?

Loads the host's libtorch (RTLD_GLOBAL, dependencies first), then checks that every libtorch symbol that
libLibTorchSharp.so needs (the list the bundle ships, libtorch-symbols.txt) is defined, then loads
libLibTorchSharp.so itself with RTLD_NOW (every function bound at once, so a missing one fails here, by name,
instead of killing the engine later). Also checks the C++ runtime LibTorchSharp was built for (GLIBCXX_3.4.32).
Prints one JSON object; exit status 0 when everything resolves, 3 when something is missing, 2 on bad arguments.
Needs only the Python standard library (no torch import: the libraries are loaded by path).
"""
import argparse
import ctypes
import json
import os
import platform
import re
import sys

LOAD_ORDER = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"]
REQUIRED = {"libc10.so", "libtorch_cpu.so", "libtorch.so"}
MAX_SYMBOL_LEN = 4096
MAX_SYMBOLS = 100000


def read_symbols(path):
    symbols = []
    with open(path, "r", encoding="ascii", errors="strict") as f:
        for n, line in enumerate(f, 1):
            name = line.strip()
            if not name:
                continue
            if len(name) > MAX_SYMBOL_LEN or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.$]*", name):
                raise ValueError(f"{path}:{n}: not a symbol name")
            symbols.append(name)
            if len(symbols) > MAX_SYMBOLS:
                raise ValueError(f"{path}: more than {MAX_SYMBOLS} symbols")
    return symbols


def glibcxx_versions(path):
    with open(path, "rb") as f:
        data = f.read()
    found = {tuple(int(p) for p in m.group(1).split(b".")) for m in re.finditer(rb"GLIBCXX_(3\.4(?:\.\d+)?)\x00", data)}
    return sorted(found)


def loaded_libstdcxx():
    ctypes.CDLL("libstdc++.so.6")
    with open("/proc/self/maps", "r") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and "libstdc++.so" in parts[5]:
                return parts[5]
    return None


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--torch-lib", required=True, help="PyTorch's torch/lib folder")
    ap.add_argument("--symbols", required=True, help="libtorch-symbols.txt from the bundle")
    ap.add_argument("--libtorchsharp", help="libLibTorchSharp.so to load with RTLD_NOW once the symbols are there")
    ap.add_argument("--glibcxx", default="3.4.32", help="GLIBCXX version LibTorchSharp needs (default 3.4.32)")
    ap.add_argument("--json", help="also write the result here")
    args = ap.parse_args(argv)

    result = {"torch_lib": os.path.abspath(args.torch_lib), "glibc": "-".join(platform.libc_ver()), "loaded": [], "ok": False}
    try:
        symbols = read_symbols(args.symbols)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        print(json.dumps({"ok": False, "error": f"symbol list: {e}"}))
        return 2

    needed = tuple(int(p) for p in args.glibcxx.split("."))
    stdcxx = loaded_libstdcxx()
    have = glibcxx_versions(stdcxx) if stdcxx else []
    result["libstdcxx"] = {"path": stdcxx, "newest": "GLIBCXX_" + ".".join(map(str, have[-1])) if have else None,
                           "needed": "GLIBCXX_" + args.glibcxx, "ok": bool(have) and have[-1] >= needed}

    handles = {}
    for name in LOAD_ORDER:
        path = os.path.join(args.torch_lib, name)
        if not os.path.exists(path):
            if name in REQUIRED:
                result["error"] = f"{path} is missing: --torch-lib must be PyTorch's torch/lib folder"
                break
            continue
        try:
            handles[name] = ctypes.CDLL(path, mode=os.RTLD_LAZY | os.RTLD_GLOBAL)
            result["loaded"].append(name)
        except OSError as e:
            result["error"] = f"{path} did not load: {e}"
            break
    result["cuda_kernels"] = "libtorch_cuda.so" in handles

    missing = []
    if "error" not in result:
        top = handles["libtorch.so"]
        others = [h for n, h in handles.items() if n != "libtorch.so"]
        for s in symbols:
            if hasattr(top, s) or any(hasattr(h, s) for h in others):
                continue
            missing.append(s)
    result["symbols_needed"] = len(symbols)
    result["symbols_missing"] = len(missing)
    result["missing"] = missing[:60]

    if "error" not in result and not missing and args.libtorchsharp:
        try:
            ctypes.CDLL(args.libtorchsharp, mode=os.RTLD_NOW | os.RTLD_GLOBAL)
            result["libtorchsharp_loaded"] = True
        except OSError as e:
            result["libtorchsharp_loaded"] = False
            result["error"] = f"libLibTorchSharp.so did not load with every symbol bound: {e}"

    result["ok"] = "error" not in result and not missing and result["libstdcxx"]["ok"] and result.get("libtorchsharp_loaded", True)
    text = json.dumps(result, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0 if result["ok"] else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
