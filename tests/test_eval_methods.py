"Letter and continuation scoring against naive computations on the real embedded model: one full forward per prompt (or per question and choice), no batching, padding, prefix sharing or cache."
import pytest, torch
from medtune.config import ModelConfig, EMBEDDED_MODEL
from medtune.model import resolve_model, load_model
from medtune.benchmarks import load_benchmark, draw_shots
from medtune.evaluate import (lm_context, doc_choices, lm_requests, prefix_groups, model_max_length, score_continuation,
                              summarize, render_prompt, letter_ids, score_items)

@pytest.fixture(scope='module')
def lm():
    torch.set_num_threads(2)
    model, tok = load_model(resolve_model(EMBEDDED_MODEL), ModelConfig(load_in_4bit=False))
    return model.eval(), tok

def naive_lls(model, tok, item, style):
    "Summed log-prob of ' ' + choice after the context, one unbatched full forward per choice."
    ctx = lm_context(item, style)
    cids = tok(ctx)['input_ids']
    out = []
    for ch in doc_choices(item, style):
        cont = tok(ctx + ' ' + ch)['input_ids'][len(cids):]
        with torch.no_grad(): lp = model(input_ids=torch.tensor([cids + cont[:-1]])).logits[0].float().log_softmax(-1)
        out.append(sum(lp[len(cids) - 1 + j, t].item() for j, t in enumerate(cont)))
    return out

def argmax(xs): return max(range(len(xs)), key=xs.__getitem__)

def items_ck():
    "Five short MMLU clinical-knowledge items sharing one 1-shot prefix, and a made-up item whose long option wins only per character."
    every = {it['id']: it for it in load_benchmark('mmlu_medical')[1]}
    its = draw_shots([every[i] for i in (488, 490, 614, 729, 491)], [every[537]], 1)
    made = dict(id='made', question='The capital of France is', answer='B', subject='clinical_knowledge',
                options={'A': 'Lyon', 'B': 'Paris, the largest city of France, on the river Seine'})
    return its + [made]

def test_continuation_matches_naive_multi_token(lm):
    model, tok = lm
    its, style = items_ck(), 'mmlu_continuation'
    reqs = lm_requests(tok, its, style, model_max_length(model, tok))
    assert any(len(c) > 1 for _, cs in reqs for c in cs)                            # the cache-continuation path runs
    assert prefix_groups([r[0] for r in reqs])[0][0] >= 32                          # ... and the shared-prefix path
    got = score_continuation(model, tok, its, style, batch_size=3)
    want = [naive_lls(model, tok, it, style) for it in its]
    for g, w in zip(got, want): assert g['lls'] == pytest.approx(w, abs=2e-3)
    s = summarize(its, [g['probs'] for g in got], [g['probs_norm'] for g in got])
    opts = [list(it['options']) for it in its]
    assert s['predictions'] == [o[argmax(w)] for o, w in zip(opts, want)]
    lens = [[len(c) for c in doc_choices(it, style)] for it in its]
    assert s['predictions_norm'] == [o[argmax([x / n for x, n in zip(w, L)])] for o, w, L in zip(opts, want, lens)]
    assert s['predictions'][-1] == 'A' and s['predictions_norm'][-1] == 'B'          # acc_norm is not acc where lengths differ
    assert s['accuracy_norm'] != s['accuracy']

def test_continuation_matches_naive_letters(lm):
    model, tok = lm
    every = {it['id']: it for it in load_benchmark('mmlu_medical')[1]}
    its = [every[i] for i in (7304, 1300, 231)]
    got = score_continuation(model, tok, its, 'mmlu', batch_size=2)
    for g, it in zip(got, its):
        assert g['lls'] == pytest.approx(naive_lls(model, tok, it, 'mmlu'), abs=2e-3)
        assert g['lens'] == [1.0] * 4 and g['probs_norm'] == pytest.approx(g['probs'])  # one-letter choices: acc_norm == acc

def test_letter_scores_match_naive_kshot(lm):
    "The default method, 1-shot: the example all four questions share is run once and its cache reused, and the letter probabilities are the naive ones."
    model, tok = lm
    its = items_ck()[:4]
    texts = [render_prompt(tok, it) for it in its]
    assert prefix_groups([tok(t, add_special_tokens=False)['input_ids'] for t in texts])[0][0] >= 32  # the shared-prefix path runs
    got = score_items(model, tok, its, batch_size=3)
    for g, t, it in zip(got, texts, its):
        with torch.no_grad(): row = model(input_ids=tok(t, add_special_tokens=False, return_tensors='pt')['input_ids']).logits[0, -1].float()
        assert g == pytest.approx(torch.softmax(row[letter_ids(tok, t, list(it['options']))], -1).tolist(), abs=1e-4)

class CacheSkewed(torch.nn.Module):
    "A model whose forward is off whenever it continues a key/value cache: what an inference kernel that mishandles a shared cache would do."
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, **kw):
        o = self.m(**kw)
        if kw.get('past_key_values') is not None: o.logits = o.logits + 3 * torch.randn_like(o.logits)
        return o

def test_prefix_cache_checked_before_use(lm, capsys):
    "Such a model gets the naive numbers anyway: the shared-prefix cache is checked on one question and, failing, not used."
    model, tok = lm
    its = items_ck()[:4]
    got = score_items(CacheSkewed(model), tok, its, batch_size=3)
    assert 'its k-shot prompts are run whole' in capsys.readouterr().out
    for g, w in zip(got, score_items(model, tok, its, batch_size=3)): assert g == pytest.approx(w, abs=1e-4)
