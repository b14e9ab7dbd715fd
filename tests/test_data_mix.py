"""Data mixing (`data.train` entries with a weight or a row count) and every assistant turn of a conversation trained:
the mix from a YAML config through `prepare_data` and the split, refused entries through the config and the CLI, and
the token labels TRL builds from medtune's tokens on the embedded model, with one real training step."""
import json
from collections import Counter
import pytest, torch
from conftest import medtune
from medtune.config import EMBEDDED_MODEL, LoraConfig, ModelConfig, TrainConfig, load_config
from medtune.core import ConfigError
from medtune.examples import data_fingerprint, load_examples, split_examples, tokenize_chats
from medtune.medical import prepare_data
from medtune.model import add_lora, load_model, resolve_model
from medtune.report import data_checks_markdown
from medtune.train import _to_dataset, make_trainer, train

ENTRY = ('an entry is a source (text, e.g. sample:medquad) or a mapping with `source` and at most one of `weight` '
         '(a number > 0, relative to the other weights) or `rows` (a whole number >= 1)')

def _qa(path, n, topic):
    "A JSONL file of `n` distinct question/answer records."
    path.write_text(''.join(json.dumps({'question': f'What is the usual first test for {topic} case {i}?',
                                        'answer': f'For {topic} case {i}, start with the standard panel {i}.'}) + '\n'
                            for i in range(n)))
    return path

def _config(tmp_path, train, seed=42, **data):
    "A config from a YAML file, as a user writes it."
    f = tmp_path/f'cfg-{seed}.yaml'
    f.write_text(json.dumps(dict(preset='cpu-demo', data={'train': train, 'max_rows': None, 'seed': seed, **data},
                                 eval=dict(benchmarks=['pubmedqa']))))
    return load_config(f, environ={})

def _share(exs, path): return sum(e['source'] == str(path) for e in exs) / len(exs)

def test_weighted_mix_realises_its_proportions_the_same_in_every_run(tmp_path):
    a, b = _qa(tmp_path/'a.jsonl', 600, 'anaemia'), _qa(tmp_path/'b.jsonl', 400, 'asthma')
    train = [{'source': str(a), 'weight': 0.7}, {'source': str(b), 'weight': 0.3}]
    exs, checks = prepare_data(_config(tmp_path, train))
    assert len(exs) == 1000 and abs(_share(exs, a) - 0.7) <= 0.03  # 1,000 drawn examples: a pool of 600 + 400 rows
    again, _ = prepare_data(_config(tmp_path, train))
    assert again == exs and data_fingerprint(again) == data_fingerprint(exs)  # the same seed: the same mix
    other, _ = prepare_data(_config(tmp_path, train, seed=7))
    assert data_fingerprint(other) != data_fingerprint(exs) and abs(_share(other, a) - 0.7) <= 0.03
    tr, va = split_examples(exs, 0.05, 42)  # the repeats of a (its second pass) are not dropped as duplicates
    assert len(tr) + len(va) == 1000 and abs(_share(tr, a) - 0.7) <= 0.03
    assert {e['id'] for e in tr if e['source'] == str(a)}.isdisjoint(e['id'] for e in va if e['source'] == str(a))
    m = checks['mix']
    assert [(x['drawn'], x['available'], x['share'], x['capped']) for x in m['entries']] == [(700, 600, 0.7, False),
                                                                                          (300, 400, 0.3, False)]
    md = data_checks_markdown(checks)
    assert f'| {a} | weight 0.7 (70.0%) | 600 | 700 | 1.17 | 70.0% |' in md
    assert f'| {b} | weight 0.3 (30.0%) | 400 | 300 | 0.75 | 30.0% |' in md

def test_the_cap_on_passes_limits_a_weight_and_the_report_says_so(tmp_path):
    small, big = _qa(tmp_path/'small.jsonl', 10, 'gout'), _qa(tmp_path/'big.jsonl', 200, 'flu')
    train = [{'source': str(small), 'weight': 0.9}, {'source': str(big), 'weight': 0.1}]
    exs, checks = prepare_data(_config(tmp_path, train))
    s, b = checks['mix']['entries']
    assert (s['asked'], s['drawn'], s['passes'], s['capped']) == (189, 40, 4, True)  # at most 4 passes over 10 rows
    assert (b['drawn'], b['capped']) == (21, False) and len(exs) == 61
    assert Counter(e['id'] for e in exs if e['source'] == str(small)) == {f'{small}:{i}': 4 for i in range(1, 11)}
    assert (f'- {small}: data.max_passes limited it to 40 rows (4 passes over its 10); it asked 189 rows, '
            '90.0% of the mix') in data_checks_markdown(checks)
    _, checks = prepare_data(_config(tmp_path, [{'source': str(small), 'rows': 25}, str(big)], max_passes=2))
    assert [(x['drawn'], x['capped']) for x in checks['mix']['entries']] == [(20, True), (200, False)]

def test_plain_sources_read_as_before(tmp_path):
    a, b = _qa(tmp_path/'a.jsonl', 30, 'anaemia'), _qa(tmp_path/'b.jsonl', 20, 'asthma')
    exs, checks = prepare_data(_config(tmp_path, [str(a), str(b)], max_rows=25))
    assert exs == load_examples([str(a), str(b)], max_rows=25) and len(exs) == 45 and 'mix' not in checks
    assert not any(l.startswith('## Training data mix') for l in data_checks_markdown(checks))

@pytest.mark.parametrize('entry,why', [(dict(source='x.jsonl', wieght=0.7), "unknown key 'wieght'"),
                                       (dict(source='x.jsonl', weight=0), 'weight must be a number > 0'),
                                       (dict(source='x.jsonl', weight=-0.3), 'weight must be a number > 0'),
                                       (dict(source='x.jsonl', weight=0.3, rows=50), 'give weight or rows, not both'),
                                       (dict(source='x.jsonl', rows=0), 'rows must be a whole number >= 1'),
                                       (dict(weight=0.3), '`source` is missing or empty')])
def test_an_invalid_entry_is_refused_naming_it(entry, why, tmp_path):
    with pytest.raises(ConfigError) as e: _config(tmp_path, ['sample:medquad', entry])
    assert f'data.train[1] = {entry!r}: {why}: {ENTRY}' in str(e.value)

def test_the_cli_refuses_an_invalid_entry(tmp_path):
    (tmp_path/'cfg.yaml').write_text('preset: cpu-demo\ndata:\n  train:\n    - {source: sample:medquad, weight: 0.7}\n'
                                     '    - {source: sample:pubmedqa, weight: 0.3, rows: 50}\n')
    p = medtune('plan', tmp_path/'cfg.yaml', '--free-gib', 15)  # the config is read first, as by `medtune train`
    assert p.returncode == 2 and 'Traceback' not in p.stderr, p.stderr[-2000:]
    entry = {'source': 'sample:pubmedqa', 'weight': 0.3, 'rows': 50}
    assert f'medtune: error: {tmp_path/"cfg.yaml"}: invalid config' in p.stderr
    assert f'data.train[1] = {entry!r}: give weight or rows, not both: {ENTRY}' in p.stderr

TURNS = [('What is hypertension?', 'Blood pressure that stays at or above 130/80 mmHg.'),
         ('Is it common in adults?', 'Yes: about one adult in three has it.'),
         ('How is it treated first?', 'Less salt, more exercise, and often a thiazide or an ACE inhibitor.')]

@pytest.fixture(scope='module')
def conversations(tmp_path_factory):
    "A 3-turn `messages` record with a system prompt, a ShareGPT one, and single-answer records, read by medtune."
    d = tmp_path_factory.mktemp('chats')
    msgs = [{'role': 'system', 'content': 'You are a careful clinician.'}]
    for q, a in TURNS: msgs += [{'role': 'user', 'content': q}, {'role': 'assistant', 'content': a}]
    share = [{'from': 'human' if m['role'] == 'user' else 'gpt', 'value': m['content']} for m in msgs[1:]]
    (d/'chats.jsonl').write_text(json.dumps({'messages': msgs}) + '\n' + json.dumps({'conversations': share}) + '\n')
    return load_examples([str(d/'chats.jsonl')]), load_examples(['sample:medquad'], max_rows=4, seed=1)

@pytest.fixture(scope='module')
def lora_model():
    model, tok = load_model(resolve_model(EMBEDDED_MODEL), ModelConfig(load_in_4bit=True))
    return add_lora(model, LoraConfig(r=8, alpha=16)), tok

CFG = TrainConfig(max_steps=1, batch_size=3, max_length=256, lr=1e-3, logging_steps=1, save_steps=100,
                  gradient_checkpointing=False, warmup_ratio=0)

def _runs(ids, labels):
    "The runs of trained (labelled) tokens, as lists of ids."
    out, cur = [], []
    for i, l in zip(ids, labels):
        if l != -100: assert l == i; cur.append(i)
        elif cur: out.append(cur); cur = []
    return out + ([cur] if cur else [])

def test_every_assistant_turn_is_trained_and_nothing_else(conversations, lora_model, tmp_path):
    chats, _ = conversations
    model, tok = lora_model
    tr = make_trainer(model, tok, tokenize_chats(tok, chats, CFG.max_length), CFG, tmp_path, live_plot=False)
    for row in tr.train_dataset:  # the labels TRL built from medtune's completion_mask: what the loss reads
        ids, labels = row['input_ids'], row['labels']
        assert [tok.decode(r) for r in _runs(ids, labels)] == [f'{a}<|im_end|>\n' for _, a in TURNS]
        eot = tok.convert_tokens_to_ids('<|im_end|>')
        assert sum(l == eot for l in labels) == 3  # each answer's end-of-turn token is trained
        masked = tok.decode([i for i, l in zip(ids, labels) if l == -100])  # the system turn, user turns, role headers
        system, _, rest = masked.partition('<|im_end|>\n')
        assert system.startswith('<|im_start|>system\n') and 'system' not in rest  # SmolLM2's template adds one
        assert rest == ''.join(f'<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n' for q, _ in TURNS)
    ds = _to_dataset(chats, tok, CFG.max_length)  # given the tokenizer, _to_dataset tokenizes conversations itself
    assert ds.column_names == ['input_ids', 'completion_mask']
    assert [(r['input_ids'], r['completion_mask']) for r in ds] == [
        (r['input_ids'], [int(l != -100) for l in r['labels']]) for r in tr.train_dataset]
    assert _to_dataset(chats).column_names == ['prompt', 'completion']  # without it: TRL's prompt-completion columns

def test_single_answers_keep_trls_tokens_and_labels(conversations, lora_model, tmp_path):
    _, single = conversations
    model, tok = lora_model
    trl_own = make_trainer(model, tok, single, CFG, tmp_path/'a', live_plot=False).train_dataset
    ours = make_trainer(model, tok, tokenize_chats(tok, single, CFG.max_length), CFG, tmp_path/'b',
                        live_plot=False).train_dataset
    assert [(r['input_ids'], r['labels']) for r in ours] == [(r['input_ids'], r['labels']) for r in trl_own]

def test_a_training_step_on_conversations_and_single_answers(conversations, lora_model, tmp_path):
    chats, single = conversations
    model, tok = lora_model
    exs = tokenize_chats(tok, chats + single, CFG.max_length)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    out = train(make_trainer(model, tok, exs, CFG, tmp_path, live_plot=False))
    assert out['global_step'] == 1 and torch.isfinite(torch.tensor(out['train_loss']))
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters() if n in before)  # the step trained
