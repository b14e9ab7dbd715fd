"""Bad data inputs: each gives one clear error naming the file and line (or the field), and leaves no output behind.

Every case runs in-process through the three entry points of `medtune.examples`: `load_examples` (what a training run
reads), `write_examples` (streams prepared data to a file: the output folder must stay empty) and `data_report` (what
`medtune data check` prints: it lists a bad record among the problems, or stops on a bad file). One test runs the
`medtune data check` command itself. The list is documented in nbs/04_data.ipynb, section "Bad inputs".
"""
import gzip, json, re
import pytest
from medtune.core import DataError, ConfigError
from medtune.config import make_config
from medtune.data import MAX_LINE_BYTES
from medtune.examples import load_examples, write_examples, data_report
from conftest import ROOT, medtune

NOTES = ROOT/'tests'/'fixtures'/'data'/'noteevents_synthetic.csv'
NOTE_HEAD = 'ROW_ID,SUBJECT_ID,HADM_ID,CHARTDATE,CATEGORY,DESCRIPTION,TEXT\n'
QA = '{"question": "What is asthma?", "answer": "A lung disease."}\n'
MCQ = '{"question": "Which vitamin?", "options": ["C", "D"], "answer": "B"}\n'

def _jl(*rows): return ''.join(json.dumps(r) + '\n' for r in rows)
def _cut_gzip():
    z = gzip.compress(b''.join(b'{"question": "q%d", "answer": "a%d"}\n' % (i, i * 7919 % 10007) for i in range(2000)))
    return z[:len(z) // 2]

# name: (file name, content (text, bytes, None = do not create, 'DIR' = a directory), regex after the file's path)
CASES = {
    'truncated_json': ('f.jsonl', QA + '{"question": "q2", "answ', r':2: invalid JSON \(Unterminated string starting at column 20\)$'),
    'truncated_json_array': ('f.json', '[{"question": "q", "answer": "a"},\n{"question": ', r':2: invalid JSON'),
    'wrong_type': ('f.jsonl', _jl({'question': 'q', 'answer': 42}), r":1: field 'answer' must be text, got int"),
    'missing_answer': ('f.jsonl', _jl({'question': 'q'}), r":1: unknown record format \(fields \['question'\]\): field 'answer' is missing"),
    'answer_not_an_option': ('f.jsonl', _jl({'question': 'q', 'options': ['x', 'y'], 'answer': 'E'}), r":1: answer 'E' is neither a letter nor the text of one of the options"),
    'answer_as_number': ('f.jsonl', _jl({'question': 'q', 'options': ['x', 'y'], 'answer': 2}), r":1: field 'answer' must be a letter or the text of an option, got int 2"),
    'one_option': ('f.jsonl', _jl({'question': 'q', 'options': ['x'], 'answer': 'A'}), r":1: field 'options' must be a dict of letters or a list with at least 2 options"),
    'pubmedqa_answer_not_yes_no_maybe': ('f.jsonl', _jl({'question': 'q', 'context': 'c', 'answer': 'yes'}, {'question': 'q2', 'context': 'c', 'answer': 'perhaps'}),
                                         r":2: answer 'perhaps' is not yes, no or maybe \(a record with question, context and answer is PubMedQA-style\)"),
    'mcq_row_without_options': ('f.jsonl', MCQ + _jl({'question': 'q2', 'answer': 'B'}), r":2: answer 'B' is an option letter but the record has no 'options'"),
    'two_formats_in_one_record': ('f.jsonl', QA + _jl({'instruction': 'Explain.', 'output': 'o', 'question': 'q', 'answer': 'a'}),
                                  r":2: the record has the fields of two formats \(alpaca: instruction, output; qa: question, answer\); keep one format per record"),
    'jsonl_in_a_json_file': ('f.json', QA + QA.replace('asthma', 'COPD'), r":2: invalid JSON \(Extra data at column 1\); one JSON object per line is JSONL: name the file \.jsonl"),
    'json_array_in_a_jsonl_file': ('f.jsonl', '[\n' + QA + ']\n', r":1: invalid JSON \(.*\); a JSON array belongs in a \.json file"),
    'empty_question': ('f.jsonl', _jl({'question': '   ', 'answer': 'a'}), r":1: field 'question' is empty"),
    'chat_ends_with_user': ('f.jsonl', _jl({'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}, {'role': 'user', 'content': 'q2'}]}),
                            r":1: the last turn must be the assistant's answer"),
    'unknown_format': ('f.jsonl', _jl({'text': 'free text'}), r":1: unknown record format \(fields \['text'\]\): expected one of"),
    'duplicate_key': ('f.jsonl', '{"question": "q", "answer": "a", "answer": "b"}\n', r":1: key answer appears twice in one record; keep one"),
    'line_not_an_object': ('f.jsonl', QA + '[1, 2]\n', r":2: expected a JSON object per line, got list"),
    'not_utf8': ('f.jsonl', b'{"question": "caf\xe9", "answer": "x"}\n', r":1: not UTF-8 \(byte 18 of the line\); re-save the file as UTF-8"),
    'utf16': ('f.jsonl', QA.encode('utf-16'), r":1: UTF-16/32 text \(byte-order mark FF FE\); re-save the file as UTF-8"),
    'huge_single_line': ('f.jsonl', QA + '{"question": "' + 'x' * (MAX_LINE_BYTES + 10) + '", "answer": "a"}\n',
                         r":2: line longer than 33,554,432 bytes; JSONL holds one record per line"),
    'empty_file': ('f.jsonl', '', r"' has no records"),
    'csv_wrong_columns': ('f.csv', 'q,a\nx,y\n', r":1: the CSV columns \['q', 'a'\] fit no known record format"),
    'csv_too_many_fields': ('f.csv', 'question,answer\nq,a,extra\n', r":2: more fields than the header has columns"),
    'notes_csv_missing_columns': ('notes.csv', 'ROW_ID,CATEGORY,TEXT\n1,Radiology,"IMPRESSION: ok"\n',
                                  r":1: a NOTEEVENTS-style notes CSV needs the columns .*; missing: SUBJECT_ID, HADM_ID, CHARTDATE, DESCRIPTION"),
    'note_empty_text': ('notes.csv', NOTE_HEAD + '1,7,8,2101-01-01,Radiology,CT,\n', r":2: field 'TEXT' is empty"),
    'json_not_an_array': ('f.json', '"hello"', r": expected a JSON array of records, got str"),
    'gz_not_gzip': ('f.jsonl.gz', QA, r":1: not a valid gzip file"),
    'gz_cut_short': ('f.jsonl.gz', _cut_gzip(), r":\d+: the gzip stream ends early"),
    'parquet_not_parquet': ('f.parquet', QA, r": cannot read as Parquet"),
    'directory': ('data.jsonl', 'DIR', r": is a directory; pass the data files inside it"),
    'missing_file': ('f.jsonl', None, r": file not found"),
    'unsupported_type': ('f.txt', QA, r": unsupported file type \.txt; use one of"),
}

def _make(tmp_path, name, content):
    src = tmp_path/'in'/name
    src.parent.mkdir()
    if content == 'DIR': src.mkdir()
    elif isinstance(content, bytes): src.write_bytes(content)
    elif content is not None: src.write_text(content)
    return src

@pytest.mark.parametrize('case', CASES)
def test_bad_input(case, tmp_path):
    name, content, pattern = CASES[case]
    src = _make(tmp_path, name, content)
    want = re.compile(re.escape(str(src)) + pattern)
    out = tmp_path/'out'; out.mkdir()
    with pytest.raises(DataError) as e: load_examples([str(src)])
    assert want.search(str(e.value)), str(e.value)[:500]
    with pytest.raises(DataError) as e: write_examples([str(src)], out/'prepared.jsonl')
    assert want.search(str(e.value)), str(e.value)[:500]
    assert list(out.iterdir()) == []  # no output file, no temporary file
    try: text = '\n'.join(m for _, m in data_report([str(src)])[str(src)]['problems'])  # a bad record: listed
    except DataError as e: text = str(e)  # a bad file: one error
    assert want.search(text), text[:500]

def test_at_least_15_distinct_bad_inputs():
    assert len(CASES) >= 15 and len({p for _, _, p in CASES.values()}) == len(CASES)

def test_accepted_oddities(tmp_path):
    "A UTF-8 byte-order mark, CRLF line ends, blank lines and a trailing line without newline are fine."
    (tmp_path/'bom.csv').write_bytes(b'\xef\xbb\xbfquestion,answer\r\nWhat is asthma?,A lung disease.\r\n\r\n')
    (tmp_path/'bom.jsonl').write_bytes(b'\xef\xbb\xbf' + QA.encode().replace(b'\n', b'\r\n') + b'\r\n' + QA.replace('asthma', 'COPD').encode()[:-1])
    assert [e['prompt'][-1]['content'] for e in load_examples([str(tmp_path/'bom.jsonl')])] == ['What is asthma?', 'What is COPD?']
    assert [e['completion'][0]['content'] for e in load_examples([str(tmp_path/'bom.csv')])] == ['A lung disease.']

def test_config_field_is_checked():
    with pytest.raises(ConfigError, match=r'data\.phrasings = 9: Input should be less than or equal to 5'):
        make_config(data={'data': {'phrasings': 9}}, environ={})

def test_cli_data_check(tmp_path):
    "`medtune data check` on the synthetic notes and a file with bad lines: every bad line with file:line, the notes' tasks, exit 1."
    bad = tmp_path/'bad.jsonl'
    bad.write_text(QA + '{"question": "q2", "answ\n' + _jl({'question': 'q3', 'answer': 7}) + QA.replace('asthma', 'COPD'))
    p = medtune('data', 'check', NOTES, bad, '--no-tokens', timeout=120)
    assert p.returncode == 1, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    assert f'{bad}:2: invalid JSON' in p.stdout and f"{bad}:3: field 'answer' must be text, got int" in p.stdout, p.stdout
    assert '4 records read, 2 kept, 2 with errors' in p.stdout
    assert '10 records read, 7 kept, 0 with errors, 3 skipped' in p.stdout and 'note-summary 4, note-impression 3' in p.stdout, p.stdout
    assert 'Traceback' not in p.stderr
    assert [x.name for x in tmp_path.iterdir()] == ['bad.jsonl']  # data check writes nothing

def _corrupt_parquet()->bytes:
    "A Parquet file with a valid footer whose snappy-compressed data pages are overwritten in the middle."
    import io, pyarrow as pa, pyarrow.parquet as pq
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([{'question': f'What is question {i} about?', 'answer': f'answer {i} ' * 5} for i in range(2000)]),
                   buf, compression='snappy')
    b = bytearray(buf.getvalue())
    data_end = len(b) - 8 - int.from_bytes(b[-8:-4], 'little')  # the footer (metadata) starts here: keep it intact
    b[data_end // 4: data_end // 2] = b'\xff' * (data_end // 2 - data_end // 4)
    return bytes(b)

_DEEP = '[' * 100_000 + ']' * 100_000
# bad files that must stop `medtune data check` and `medtune train` with one message (and `load_examples` & co in-process)
FILE_CASES = {
    'parquet_corrupt_pages': ('f.parquet', _corrupt_parquet(), r": corrupt or unreadable Parquet file \(.*\); re-export"),
    'json_nested_too_deep': ('f.json', '[{"question": "q", "answer": "a", "x": ' + _DEEP + '}]', r": a record is nested too deeply"),
    'jsonl_nested_too_deep': ('f.jsonl', QA + '{"question": "q", "answer": "a", "x": ' + _DEEP + '}\n', r":2: the record is nested too deeply"),
    'csv_nul_bytes': ('f.csv', b'question,answer\nq1,a1\nq\x002,a2\n', r":3: the line contains NUL bytes \(a binary file, or text saved as UTF-16\?\)"),
    'symlink_loop': ('f.jsonl', 'LOOP', r": a symlink loop \(the link points back to itself"),
    'symlink_dangling': ('f.jsonl', 'DANGLING', r": a symlink to a missing file \(.*nowhere\.jsonl\)"),
}
CASES.update(FILE_CASES)

_make_plain = _make
def _make(tmp_path, name, content):
    "As before, and 'LOOP' (a symlink to itself) or 'DANGLING' (a symlink to a missing file)."
    if content not in ('LOOP', 'DANGLING'): return _make_plain(tmp_path, name, content)
    src = tmp_path/'in'/name
    src.parent.mkdir()
    src.symlink_to(name if content == 'LOOP' else 'nowhere.jsonl')
    return src

@pytest.mark.parametrize('case', FILE_CASES)
def test_cli_bad_file(case, tmp_path):
    "`medtune data check` and `medtune train` on a bad file: exit 2 (data check: 1 for one bad record, listed), one message naming the file, no traceback, no run folder."
    name, content, pattern = FILE_CASES[case]
    src = _make(tmp_path, name, content)
    want = re.compile('medtune: error: ' + re.escape(str(src)) + pattern)
    p = medtune('data', 'check', src, '--no-tokens', timeout=300)
    if case == 'jsonl_nested_too_deep':  # one bad record: data check lists it and goes on (exit 1)
        assert p.returncode == 1 and re.search('  error ' + re.escape(str(src)) + pattern, p.stdout), (p.returncode, p.stdout[-2000:])
    else: assert p.returncode == 2 and want.search(p.stderr), (p.returncode, p.stderr[-2000:])
    assert 'Traceback' not in p.stderr, p.stderr[-2000:]
    cfg = tmp_path/'cfg.yaml'
    cfg.write_text(f'preset: cpu-demo\ndata: {{train: [{json.dumps(str(src))}]}}\n')
    p = medtune('train', cfg, '--out', tmp_path/'run', timeout=300)
    assert p.returncode == 2 and want.search(p.stderr) and 'Traceback' not in p.stderr, (p.returncode, p.stderr[-2000:])
    assert not (tmp_path/'run').exists()

def test_cli_json_error_column(tmp_path):
    "The position in an invalid-JSON message reads once: 'starting at column 19', not 'starting at at column 19'."
    bad = tmp_path/'bad.jsonl'
    bad.write_text(QA + '{"question": "q\x01", "answer": "a"}\n' + '{"question": "q3", "answ')
    p = medtune('data', 'check', bad, '--no-tokens', timeout=300)
    assert f'{bad}:2: invalid JSON (Invalid control character at column 16)' in p.stdout, p.stdout
    assert f'{bad}:3: invalid JSON (Unterminated string starting at column 20)' in p.stdout, p.stdout
    assert ' at at ' not in p.stdout + p.stderr and 'Traceback' not in p.stderr

def test_cli_token_quantiles(tmp_path):
    "`medtune data check` with tokens on 2 rows: the p95 is never below the median."
    two = tmp_path/'two.jsonl'
    two.write_text(_jl({'question': 'What is asthma?', 'answer': 'A lung disease.'},
                       {'question': 'What is COPD? ' * 20, 'answer': 'A chronic obstructive lung disease. ' * 20}))
    p = medtune('data', 'check', two, timeout=300)
    m = re.search(r'tokens \(chat template applied\): min (\d+), median (\d+), p95 (\d+), max (\d+)', p.stdout)
    assert p.returncode == 0 and m, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    lo, med, p95, hi = map(int, m.groups())
    assert lo < hi and lo <= med <= p95 <= hi and p95 == hi, m.group(0)

def _hub_error_text()->str:
    "The hub library's own text for a model it cannot reach (offline here), first line."
    from huggingface_hub import hf_hub_download
    try: hf_hub_download('someone/not-a-model', 'config.json')
    except Exception as e: return str(e).splitlines()[0]
    pytest.skip('the hub answered')

def _quoted_at_word_boundary(err:str, full:str):
    "The library text quoted in `err` is all of `full`, or a prefix of it cut at a word boundary and ended with …."
    m = re.search(r'LocalEntryNotFoundError: (.*?)\)\. ', err)
    assert m, err
    q = m.group(1)
    if q == full: return
    assert q.endswith('…') and full.startswith(q[:-1]) and full[len(q) - 1] == ' ', (q, full)

def test_cli_hub_error_cut_at_a_word(tmp_path):
    "A hub error quoted in a message (plan: memory._hub_config; train: model._hub_reachable) is cut at a word, with …."
    full = _hub_error_text()
    assert len(full) > 200  # long enough to be cut
    cfg = tmp_path/'m.yaml'
    cfg.write_text('preset: cpu-demo\nmodel: {name: someone/not-a-model}\n')
    p = medtune('plan', cfg, '--free-gib', '10', timeout=300)
    assert p.returncode == 2 and 'cannot read its config.json' in p.stderr and 'Traceback' not in p.stderr, p.stderr
    _quoted_at_word_boundary(p.stderr, full)
    p = medtune('train', cfg, '--out', tmp_path/'run', timeout=300)
    assert p.returncode == 2 and 'the Hugging Face hub does not serve it' in p.stderr and 'Traceback' not in p.stderr, p.stderr
    _quoted_at_word_boundary(p.stderr, full)
    assert not (tmp_path/'run').exists()

def test_hub_dataset_error_cut_at_a_word(monkeypatch):
    "A data source on the hub that fails to load: the library's text is quoted cut at a word, with …."
    import datasets
    full = 'Could not reach the hub ' + 'because the connection timed out ' * 10
    def fail(*a, **k): raise ConnectionError(full + '\nsecond line')
    monkeypatch.setattr(datasets, 'load_dataset', fail)
    with pytest.raises(DataError) as e: load_examples(['someone/some-medical-set'])
    m = re.search(r'\(ConnectionError: (.*?)…\)\. Offline', str(e.value))
    assert m and full.startswith(m.group(1) + ' ') and 'second line' not in str(e.value), str(e.value)

@pytest.fixture
def tiny_adapter(tmp_path):
    "RUN/adapter saved with medtune.persist.save_adapter from a random-initialised one-layer Llama with LoRA."
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from medtune.config import LoraConfig, EMBEDDED_MODEL
    from medtune.model import add_lora, resolve_model, load_tokenizer
    from medtune.persist import save_adapter
    torch.manual_seed(0)
    m = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2))
    pm = add_lora(m, LoraConfig(r=4, target_modules=['q_proj', 'v_proj']))
    ad = tmp_path/'run'/'adapter'
    save_adapter(pm, load_tokenizer(resolve_model(EMBEDDED_MODEL).path), ad, dict(base_model=EMBEDDED_MODEL))
    return ad

def test_cli_manifest_cut_short(tiny_adapter):
    "An adapter whose manifest.json is cut short: `medtune eval --adapter` and `medtune export` stop with one message."
    mf = tiny_adapter/'manifest.json'
    mf.write_bytes(mf.read_bytes()[:mf.stat().st_size // 2])
    before = sorted(tiny_adapter.parent.iterdir())
    for args in (('eval', '--adapter', tiny_adapter), ('export', tiny_adapter)):
        p = medtune(*args, timeout=300)
        assert p.returncode == 2 and 'Traceback' not in p.stderr, (args, p.returncode, p.stderr[-2000:])
        assert f'medtune: error: {mf}: not valid JSON' in p.stderr and 'cut short or edited' in p.stderr, p.stderr
        assert sorted(tiny_adapter.parent.iterdir()) == before  # no eval or exports folder
