"""A user's own export format, registered from outside medtune with one call: the adapter's LoRA matrices as a NumPy
`.npz` (float32, by their peft names), written without merging the base. Load it on the command line with
MEDTUNE_PLUGINS=tests/plugins/export_plugin.py; then `medtune export RUN --formats lora-npz` writes
RUN/exports/lora-npz/ (with the model card, medtune.json and manifest every export gets) and
`medtune push --kind lora-npz` offers it."""
import numpy as np
from medtune.export import EXPORTERS, Exporter

def write_npz(job, dest):
    "The adapter's LoRA tensors into dest/lora.npz."
    from safetensors.torch import load_file
    w = load_file(str(job.adapter/'adapter_model.safetensors'))
    np.savez(dest/'lora.npz', **{k: v.float().numpy() for k, v in w.items()})

def usage(where, job=None):
    "How to read it from the folder `where` (None for a hub repo: the card names the file, which keeps its name)."
    if job is None: return None
    return (f"```python\nimport numpy as np\n"
            f"lora = np.load('{where}/lora.npz')  # peft tensor name -> float32 array\n```")

EXPORTERS.register(Exporter('lora-npz', write_npz, ['lora.npz'], usage, merges=False,
                            help="the adapter's LoRA matrices as a NumPy .npz (no merge)"), replace=True)
