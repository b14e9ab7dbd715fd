#!/usr/bin/env python3
"""Build the small, deterministic data samples in `medtune/samples` from the real data in `shared/data`.

Standard library only. Every source file's sha256 is checked against its folder's PROVENANCE.md first.
Re-running gives byte-identical output; every file is written atomically.
"""
import argparse, gzip, hashlib, json, os, random, re, sys, tempfile
from pathlib import Path

SEED = 20261126
SCRIPT = "scripts/make_samples.py"
REPO = Path(__file__).resolve().parents[1]
MEDAGENTS = "GitHub `xk-huang/medagents-benchmark` @ `56ca11eb1ef89f6bb7fad6284008bf39e08785b0`"
MEDAGENTS_CITE = "Tang et al. 2025, \"MedAgentsBench: Benchmarking Thinking Models and Agent Frameworks for Complex Medical Reasoning\", arXiv:2503.07459."
MCQ_CHANGES = "`realidx` -> `id`, `answer_idx` (gold letter) -> `answer`; gold-answer text and metadata dropped; question and option text unchanged."

DATASETS = {  # sample file -> where it comes from and how it may be used
    "medquad_train.jsonl": dict(
        name="MedQuAD", folder="medquad", files=["medquad_with_answers.jsonl.gz"], license="CC BY 4.0",
        licenses={"LICENSE.medquad.md": "medquad/LICENSE.txt"},
        upstream=["GitHub `abachaa/MedQuAD` @ `577bd37b96c02d1833b2c9eed2de9f96964e96cb` (XML, flattened to JSONL)"],
        citation="Ben Abacha & Demner-Fushman 2019, \"A question-entailment approach to question answering\", BMC Bioinformatics 20:511.",
        changes="XML flattened, whitespace normalised (see shared/data/medquad/PROVENANCE.md); only id/focus/qtype/question/answer kept; `source` set to `medquad`.",
        drawn="answer <= 700 chars and question <= 200 chars"),
    "pubmedqa_train.jsonl": dict(
        name="PubMedQA (PQA-L)", folder="pubmedqa", files=["ori_pqal.json", "test_ground_truth.json"], license="MIT",
        licenses={"LICENSE.pubmedqa.md": "pubmedqa/LICENSE"},
        upstream=["GitHub `pubmedqa/pubmedqa` @ `1cbae8e92f72f20c8d3747cbb3bf5bc53554d997` (`data/ori_pqal.json`)"],
        citation="Jin et al. 2019, \"PubMedQA: A Dataset for Biomedical Research Question Answering\", EMNLP-IJCNLP 2019.",
        changes="`context` = CONTEXTS joined with newlines; `answer` = final_decision; `long_answer` = LONG_ANSWER; other fields dropped.",
        drawn="the 500 PMIDs not in test_ground_truth.json, with the joined context <= 1,200 chars"),
    "pubmedqa_eval.jsonl": dict(
        name="PubMedQA (PQA-L), official test split", folder="pubmedqa", files=["ori_pqal.json", "test_ground_truth.json"],
        license="MIT", licenses={"LICENSE.pubmedqa.md": "pubmedqa/LICENSE"},
        upstream=["GitHub `pubmedqa/pubmedqa` @ `1cbae8e92f72f20c8d3747cbb3bf5bc53554d997` (`data/ori_pqal.json`, `data/test_ground_truth.json`)"],
        citation="Jin et al. 2019, \"PubMedQA: A Dataset for Biomedical Research Question Answering\", EMNLP-IJCNLP 2019.",
        changes="`context` = CONTEXTS joined with newlines; `answer` = the test_ground_truth.json label; `long_answer` = LONG_ANSWER; other fields dropped.",
        drawn="the 500 official test PMIDs (test_ground_truth.json), with the joined context <= 1,200 chars"),
    "medqa_eval.jsonl": dict(
        name="MedQA (USMLE, 4 options), test split", folder="medqa_usmle", files=["test_4options.jsonl"], license="MIT",
        licenses={"LICENSE.medqa.md": "medqa_usmle/LICENSE.MedQA", "LICENSE.medagents-benchmark.md": "medqa_usmle/LICENSE.medagents-benchmark"},
        upstream=["GitHub `jind11/MedQA` @ `27b02f66aac217933c9648a06f82e9f720377925` (original dataset)",
                  f"{MEDAGENTS}, `data/medqa/test.jsonl` (file used)"],
        citation="Jin et al. 2021, \"What Disease does this Patient Have? A Large-scale Open Domain Question Answering Dataset from Medical Exams\", Applied Sciences 11(14):6421. " + MEDAGENTS_CITE,
        changes=MCQ_CHANGES, drawn="question <= 700 chars"),
    "mmlu_medical_eval.jsonl": dict(
        name="MMLU, six medical subjects, test split", folder="mmlu_medical", files=["test_medical_6subjects.jsonl"], license="MIT",
        licenses={"LICENSE.mmlu.md": "mmlu_medical/LICENSE.hendrycks-test", "LICENSE.medagents-benchmark.md": "mmlu_medical/LICENSE.medagents-benchmark"},
        upstream=["GitHub `hendrycks/test` (original dataset)", f"{MEDAGENTS}, `data/mmlu/test.jsonl` (file used)"],
        citation="Hendrycks et al. 2021, \"Measuring Massive Multitask Language Understanding\", ICLR 2021. " + MEDAGENTS_CITE,
        changes=MCQ_CHANGES + " `subject` kept.", drawn="question <= 700 chars"),
    "medmcqa_eval.jsonl": dict(
        name="MedMCQA, dev split, single-answer questions", folder="medmcqa", files=["dev_single_choice.jsonl"], license="MIT",
        licenses={"LICENSE.medmcqa.md": "medmcqa/LICENSE.MedMCQA.md", "LICENSE.medagents-benchmark.md": "medmcqa/LICENSE.medagents-benchmark"},
        upstream=["GitHub `medmcqa/medmcqa` @ `c59ef14ca1990266c4107c7864b45a20fd93e5e0` (original dataset)",
                  f"{MEDAGENTS}, `data/medmcqa/test.jsonl` (file used)"],
        citation="Pal et al. 2022, \"MedMCQA: A Large-scale Multi-Subject Multi-Choice Dataset for Medical domain Question Answering\", CHIL 2022, PMLR 174:248-260. " + MEDAGENTS_CITE,
        changes=MCQ_CHANGES, drawn="all rows (no filter)"),
}
SIZES = {"medquad_train.jsonl": 300, "pubmedqa_train.jsonl": 200, "pubmedqa_eval.jsonl": 100,
         "medqa_eval.jsonl": 100, "mmlu_medical_eval.jsonl": 100, "medmcqa_eval.jsonl": 100}
ELIGIBLE = {}  # sample file -> number of source rows that passed its filter, filled in by `draw`


def sha256(path):
    """Hex sha256 of the file at `path`."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def expected_sha(prov, fname):
    """The one sha256 that PROVENANCE.md text `prov` gives for `fname`."""
    found = {m for line in prov.splitlines() if fname in line for m in re.findall(r"\b[0-9a-f]{64}\b", line)}
    if len(found) != 1: sys.exit(f"error: PROVENANCE.md gives {len(found)} sha256 values for {fname}, expected 1")
    return found.pop()


def verify(shared, folder, fname):
    """Check `folder/fname` against the sha256 in `folder/PROVENANCE.md` and return its path."""
    path = shared/folder/fname
    want, got = expected_sha((shared/folder/"PROVENANCE.md").read_text(encoding="utf-8"), fname), sha256(path)
    if got != want: sys.exit(f"error: sha256 mismatch for {path}\n  PROVENANCE.md: {want}\n  file:          {got}")
    return path


def read_jsonl(path):
    """All JSON objects in a (optionally gzipped) JSON-lines file, in file order."""
    with (gzip.open if path.suffix == ".gz" else open)(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def draw(rows, keep, n, name):
    """`n` rows passing `keep` (all of them if fewer), drawn with a fresh `Random(SEED)`, in source order."""
    idx = [i for i, r in enumerate(rows) if keep(r)]
    ELIGIBLE[name] = len(idx)
    if len(idx) < n: print(f"warning: {name}: only {len(idx)} eligible rows, taking all of them (asked for {n})", file=sys.stderr)
    return [rows[i] for i in sorted(random.Random(SEED).sample(idx, min(n, len(idx))))]


def medquad(shared):
    """The MedQuAD training sample."""
    rows = read_jsonl(verify(shared, "medquad", "medquad_with_answers.jsonl.gz"))
    keep = lambda r: len(r["answer"]) <= 700 and len(r["question"]) <= 200
    return [dict(id=r["id"], source="medquad", focus=r["focus"], qtype=r["qtype"], question=r["question"], answer=r["answer"])
            for r in draw(rows, keep, SIZES["medquad_train.jsonl"], "medquad_train.jsonl")]


def pubmedqa(shared, name, test):
    """A PubMedQA sample from the official test PMIDs (`test`) or from the other 500."""
    items = json.loads(verify(shared, "pubmedqa", "ori_pqal.json").read_text(encoding="utf-8"))
    gold = json.loads(verify(shared, "pubmedqa", "test_ground_truth.json").read_text(encoding="utf-8"))
    rows = [dict(id=k, source="pubmedqa", question=v["QUESTION"], context="\n".join(v["CONTEXTS"]),
                 answer=gold[k] if test else v["final_decision"], long_answer=v["LONG_ANSWER"])
            for k, v in items.items() if (k in gold) == test]
    return draw(rows, lambda r: len(r["context"]) <= 1200, SIZES[name], name)


def mcq(shared, name, source, keep=lambda r: True, subject=False):
    """A multiple-choice eval sample (options A-D, gold letter) from a MedAgentsBench-format file."""
    spec = DATASETS[name]
    rows = read_jsonl(verify(shared, spec["folder"], spec["files"][0]))
    out = []
    for r in draw(rows, keep, SIZES[name], name):
        assert sorted(r["options"]) == list("ABCD") and r["answer_idx"] in r["options"], r["realidx"]
        out.append(dict(id=r["realidx"], source=source, **({"subject": r["subject"]} if subject else {}),
                        question=r["question"], options=r["options"], answer=r["answer_idx"]))
    return out


def write_atomic(path, data):
    """Write bytes `data` to `path` via a temp file in the same folder and `os.replace`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f: f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True); raise


def jsonl_bytes(rows):
    """Rows as UTF-8 JSON lines."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def attribution(shared, counts):
    """The text of ATTRIBUTION.md."""
    lines = ["# Attribution for the data samples in `medtune/samples`", "",
             f"Built by `{SCRIPT}` (standard library only) from the copies in `shared/data`; re-running it gives byte-identical files.",
             f"Each file is drawn with its own `random.Random({SEED})`: `sample()` over the indices of the eligible rows, "
             "then the drawn rows are kept in their source order. File sizes and sha256 are in `manifest.json`.",
             "The upstream license texts are copied next to the samples as `LICENSE.<dataset>.md`.", ""]
    for name, d in DATASETS.items():
        prov = (shared/d["folder"]/"PROVENANCE.md").read_text(encoding="utf-8")
        for up in d["upstream"]:  # every commit quoted here must be the one PROVENANCE.md names
            for commit in re.findall(r"[0-9a-f]{40}", up):
                if commit not in prov: sys.exit(f"error: commit {commit} not in {d['folder']}/PROVENANCE.md")
        lines += [f"## `{name}`", "", f"- Dataset: {d['name']}", f"- Citation: {d['citation']}",
                  *[f"- Upstream: {up}" for up in d["upstream"]],
                  f"- License: {d['license']} (" + ", ".join(f"`{l}`" for l in d["licenses"]) + ")",
                  *[f"- Source file sha256: `shared/data/{d['folder']}/{f}` `{sha256(shared/d['folder']/f)}`" for f in d["files"]],
                  f"- Eligible: {d['drawn']} -> {ELIGIBLE[name]:,} rows",
                  f"- Drawn: {counts[name]} of them with seed {SEED} (asked for {SIZES[name]})",
                  f"- Changes: {d['changes']}", f"- Rows: {counts[name]}", ""]
    return "\n".join(lines).encode("utf-8")


def main():
    """Parse the arguments and write every sample file, the license copies, ATTRIBUTION.md and manifest.json."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2]/"shared"/"data", help="the shared/data folder")
    ap.add_argument("--out", type=Path, default=REPO/"medtune"/"samples", help="output folder")
    a = ap.parse_args()
    shared, out = a.shared.resolve(), a.out.resolve()
    if not (shared/"README.md").is_file(): sys.exit(f"error: {shared} does not look like shared/data (no README.md)")
    out.mkdir(parents=True, exist_ok=True)
    samples = {
        "medquad_train.jsonl": medquad(shared),
        "pubmedqa_train.jsonl": pubmedqa(shared, "pubmedqa_train.jsonl", test=False),
        "pubmedqa_eval.jsonl": pubmedqa(shared, "pubmedqa_eval.jsonl", test=True),
        "medqa_eval.jsonl": mcq(shared, "medqa_eval.jsonl", "medqa_usmle", keep=lambda r: len(r["question"]) <= 700),
        "mmlu_medical_eval.jsonl": mcq(shared, "mmlu_medical_eval.jsonl", "mmlu_medical", keep=lambda r: len(r["question"]) <= 700, subject=True),
        "medmcqa_eval.jsonl": mcq(shared, "medmcqa_eval.jsonl", "medmcqa"),
    }
    files = {}
    for name, rows in samples.items():
        data = jsonl_bytes(rows)
        write_atomic(out/name, data)
        files[name] = dict(sha256=hashlib.sha256(data).hexdigest(), rows=len(rows), bytes=len(data))
        print(f"{name}: {len(rows)} rows, {len(data)} bytes")
    for d in DATASETS.values():
        for dst, src in d["licenses"].items(): write_atomic(out/dst, (shared/src).read_bytes())
    write_atomic(out/"ATTRIBUTION.md", attribution(shared, {n: f["rows"] for n, f in files.items()}))
    manifest = dict(files=files, seed=SEED, script=SCRIPT)
    write_atomic(out/"manifest.json", (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
