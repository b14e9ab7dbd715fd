"""Bad data inputs: each gives one clear error naming the file and line (or the field), and leaves no output behind.

Every case runs in-process through the three entry points of `medtune.data`: `load_examples` (what a training run reads),
`write_examples` (streams prepared data to a file: the output folder must stay empty) and `data_report` (what
`medtune data check` prints: it lists a bad record among the problems, or stops on a bad file). One test runs the
`medtune data check` command itself. The list is documented in nbs/04_data.ipynb, section "Bad inputs".
"""
import gzip, json, re
import pytest
from medtune.core import DataError, ConfigError
from medtune.config import make_config
from medtune.data import load_examples, write_examples, data_report, MAX_LINE_BYTES
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
    'truncated_json': ('f.jsonl', QA + '{"question": "q2", "answ', r':2: invalid JSON \(Unterminated string'),
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
                                  r":2: the record has the fields of two formats \(alpaca: instruction, output; question: question, answer\); keep one format per record"),
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
