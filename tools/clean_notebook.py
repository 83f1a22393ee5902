"""Clean executed notebooks in place: drop saved widget state and TensorFlow's C++ start-up log lines.

TensorFlow prints a few absl lines ("I0000 ... port.cc:153] oneDNN custom operations are on", "Could not
find cuda drivers") to stderr when it is imported, before TF_CPP_MIN_LOG_LEVEL takes effect. They are noise
in the committed outputs. Other stderr output (warnings, progress) is kept.

    python tools/clean_notebook.py notebooks/01_gan_basics.ipynb [...]
"""
import json
import re
import sys

NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR|[IWE]\d{4} [\d:.]+\s+\d+ \S+:\d+\].*)$")
for path in sys.argv[1:]:
    nb = json.load(open(path))
    nb["metadata"].pop("widgets", None)
    dropped = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
                lines = text.splitlines(keepends=True)
                kept = [l for l in lines if not NOISE.match(l.rstrip("\n"))]
                dropped += len(lines) - len(kept)
                if not "".join(kept).strip():
                    continue
                out["text"] = kept
            outputs.append(out)
        cell["outputs"] = outputs
    with open(path, "w") as handle:
        json.dump(nb, handle, indent=1, ensure_ascii=False, sort_keys=True)
        handle.write("\n")
    print(path, "dropped", dropped, "log lines")
