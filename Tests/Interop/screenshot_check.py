#!/usr/bin/env python3
"""Renders an HTML report in headless Chromium and says what the screenshot shows: how
many pixels have each chart line colour, and whether the page asked for anything from
the network. Prints one JSON object.

usage: screenshot_check.py REPORT.html SCREENSHOT.png
exit 3 when Chromium or Pillow is missing (the caller decides whether that is a failure).
"""

import json
import shutil
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)  # Pillow's getdata

html, png = sys.argv[1], sys.argv[2]
browser = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    from PIL import Image
except ImportError:
    browser = None
if browser is None:
    print("chromium and Pillow are needed: apt-get install chromium; pip install pillow", file=sys.stderr)
    sys.exit(3)

# --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--window-size=1220,1300", f"--screenshot={png}", f"file://{html}"],
               check=True, timeout=120, capture_output=True)
image = Image.open(png).convert("RGB")
colours = {"blue": (0x1f, 0x77, 0xb4), "red": (0xd6, 0x27, 0x28), "green": (0x2c, 0xa0, 0x2c)}
counts = {name: 0 for name in colours}
for pixel in image.getdata():
    for name, (r, g, b) in colours.items():
        if abs(pixel[0] - r) < 24 and abs(pixel[1] - g) < 24 and abs(pixel[2] - b) < 24:
            counts[name] += 1
text = open(html, encoding="utf-8").read()
external = [marker for marker in ("<script src", "<link ", "url(", "@import", "<img ") if marker in text]
print(json.dumps({"width": image.width, "height": image.height, "pixels": counts, "external": external,
                  "charts": text.count("<svg ")}))
