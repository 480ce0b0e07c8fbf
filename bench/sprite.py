"""Build the icon sprite static/vendor/lucide-<version>-sprite.svg from a Lucide tarball,
with only the icons named (README "Look and feel"; tests/test_palette.py checks that the
sprite holds exactly the icons the templates use).

    (cd /tmp && npm pack lucide-static@1.62.0)
    PYTHONPATH=. .venv/bin/python bench/sprite.py /tmp/lucide-static-1.62.0.tgz sun moon ...

Writes the sprite and the license beside it (lucide-<version>.LICENSE); prints its size.
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
# Lucide's symbols carry no paint: the <use> would inherit it, so each symbol gets its own.
PAINT = (
    'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
    'stroke-linejoin="round"'
)


def main(tarball: str, names: list[str]) -> None:
    with tarfile.open(tarball) as archive:
        read = lambda name: archive.extractfile(f"package/{name}").read().decode()  # noqa: E731
        version = json.loads(read("package.json"))["version"]
        source, license_text = read("sprite.svg"), read("LICENSE")
    lines = [
        '<svg xmlns="http://www.w3.org/2000/svg">',
        f"<!-- Lucide {version} (lucide-static, ISC: lucide-{version}.LICENSE beside this "
        "file): only the icons the app uses. -->",
    ]
    for name in sorted(set(names)):
        found = re.search(
            rf'<symbol id="{re.escape(name)}" viewBox="0 0 24 24">(.*?)</symbol>', source, re.S
        )
        if found is None:
            raise SystemExit(f"no icon {name!r} in Lucide {version}")
        body = re.sub(r"\s*\n\s*", "", found.group(1)).replace(" />", "/>")
        lines.append(f'<symbol id="{name}" viewBox="0 0 24 24" {PAINT}>{body}</symbol>')
    lines.append("</svg>")
    sprite = VENDOR / f"lucide-{version}-sprite.svg"
    sprite.write_text("\n".join(lines) + "\n")
    (VENDOR / f"lucide-{version}.LICENSE").write_text(license_text)
    print(f"{sprite.name} = {sprite.stat().st_size} bytes, {len(set(names))} icons")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
