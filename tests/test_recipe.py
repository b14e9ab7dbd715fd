"""The training recipe's settings on the real embedded model: LoRA variants that reload with plain peft, packed batches
that mask every prompt token and keep examples apart (in process); the best checkpoint, early stopping and TensorBoard
through `medtune train`."""
import json
from pathlib import Path
import pytest, torch
from medtune.config import EMBEDDED_MODEL, LoraConfig, ModelConfig, TrainConfig
from medtune.examples import load_examples
from medtune.model import add_lora, load_model, resolve_model
from medtune.persist import save_adapter, save_initial
from medtune.train import make_trainer, train

EXS = load_examples(['sample:medquad'], max_rows=8, seed=1)
CFG = TrainConfig(max_steps=2, batch_size=2, max_length=128, lr=5e-3, logging_steps=1, save_steps=100,
                  gradient_checkpointing=False, warmup_ratio=0)

def _base(q=True):
    "The embedded SmolLM2, 4-bit (QLoRA) unless `q` is False."
    return load_model(resolve_model(EMBEDDED_MODEL), ModelConfig(load_in_4bit=q))

def _logits(m, tok):
    x = tok(['What is the treatment of gout?', 'Is aspirin an antiplatelet drug?'], return_tensors='pt', padding=True)
    with torch.no_grad(): return m(**x).logits.float()

@pytest.mark.parametrize('lora,q', [(dict(use_dora=True, use_rslora=True, modules_to_save=['model.norm']), True),
                                    (dict(init='olora'), False)])
def test_variant_trains_and_reloads_with_plain_peft(lora, q, tmp_path):
    from peft import PeftModel
    model, tok = _base(q)
    model = add_lora(model, LoraConfig(r=8, alpha=16, **lora))
    if 'init' in lora: save_initial(model, tmp_path/'init')  # OLoRA moves part of the base into the adapter
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    tr = make_trainer(model, tok, EXS, CFG, tmp_path/'run', live_plot=False)
    assert train(tr)['global_step'] == 2
    model = tr.model
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters() if n in before)  # it trained
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    if lora.get('use_dora'): assert any('lora_magnitude_vector' in n for n in names)
    if 'modules_to_save' in lora: assert any('modules_to_save' in n for n in names)
    for p in model.parameters():  # TRL trains QLoRA's LoRA weights in bfloat16; plain peft reloads them in float32
        if p.requires_grad: p.data = p.data.float()
    model.eval(); want = _logits(model, tok)
    save_adapter(model, tok, tmp_path/'adapter', {}, initial=tmp_path/'init' if 'init' in lora else None)
    plain = PeftModel.from_pretrained(_base(q)[0], str(tmp_path/'adapter')).eval()
    got = _logits(plain, tok)
    assert (got - want).abs().max() < 1e-4 * want.abs().max(), (got - want).abs().max()  # the same model
    with plain.disable_adapter(): base = _logits(plain, tok)
    assert (got - base).abs().max() > 10 * (got - want).abs().max()  # the adapter matters far more than the rounding

def test_packed_batches_mask_prompts_and_keep_examples_apart(tmp_path):
    model, tok = _base(False)  # full precision: 4-bit kernels round differently with the sequence length (~1% here)
    model = add_lora(model, LoraConfig(r=8))
    tr = make_trainer(model, tok, EXS, CFG.model_copy(update=dict(packing=True, max_length=256)), tmp_path, live_plot=False)
    assert tr.medtune_padding['packed'] and 'packed' in tr.medtune_padding['reason']
    batches = list(tr.get_train_dataloader())
    assert all(b['input_ids'].shape[0] <= CFG.batch_size and 'attention_mask' not in b for b in batches)  # rows apart
    b = max(batches, key=lambda b: int((b['position_ids'] == 0).sum(1).max()))
    r = int((b['position_ids'] == 0).sum(1).argmax())  # the row holding the most examples
    pos, lab, ids = b['position_ids'][r], b['labels'][r], b['input_ids'][r]
    n = int((pos >= 0).sum()); pos, lab, ids = pos[:n], lab[:n], ids[:n]  # the row without its pads (position -1)
    assert (b['position_ids'][r, n:] == -1).all() and (b['labels'][r, n:] == -100).all()
    starts = (pos == 0).nonzero().flatten().tolist() + [n]
    assert len(starts) > 2  # several examples in one row
    prompts = {tok.apply_chat_template(e['prompt'], tokenize=False, add_generation_prompt=True) for e in EXS}
    for s, e in zip(starts, starts[1:]):
        trained = (lab[s:e] != -100).nonzero().flatten()
        first = trained[0].item()
        assert (lab[s:s + first] == -100).all() and (lab[s + first:e] != -100).all()  # the prompt masked, the answer not
        assert tok.decode(ids[s:s + first]) in prompts  # exactly a prompt (chat template and question) is masked
    s, e = starts[1], starts[2]  # the second example, packed behind the first, gives what it gives alone
    model.eval()
    with torch.no_grad():
        packed = model(input_ids=b['input_ids'], position_ids=b['position_ids']).logits[r, s:e].float()  # as trained
        alone = model(input_ids=ids[None, s:e]).logits[0].float()
    assert (packed - alone).abs().max() < 1e-3, (packed - alone).abs().max()

CLI_CFG = """preset: cpu-demo
data: {train: [sample:medquad], max_rows: 40, val_fraction: 0.2}
train: {max_steps: 8, save_steps: 2, logging_steps: 1, max_length: 128, batch_size: 4, lr: 0.02, warmup_ratio: 0,
        select: best_val_loss, early_stopping_patience: 2, report_to: [tensorboard]}
eval: {benchmarks: [pubmedqa], n: 2, generations: 0, max_new_tokens: 8, freetext_n: 0, refusal_probe: false}
output: {export: []}
"""

def test_best_checkpoint_early_stopping_and_tensorboard(tmp_path):
    from conftest import medtune
    from safetensors.torch import load_file
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    (tmp_path/'cfg.yaml').write_text(CLI_CFG)  # a learning rate so high that the validation loss rises after step 2
    run = tmp_path/'run'
    p = medtune('train', tmp_path/'cfg.yaml', '--out', run)
    assert p.returncode == 0, p.stderr[-3000:]
    recs = [json.loads(l) for l in (run/'metrics.jsonl').read_text().splitlines()]
    ev = [(r['step'], r['eval_loss']) for r in recs if 'eval_loss' in r]
    best = min(ev, key=lambda x: x[1])[0]
    t = json.loads((run/'report.json').read_text())['training']
    assert t['selected']['how'] == 'best_val_loss' and t['selected']['step'] == best < ev[-1][0], (t['selected'], ev)
    assert t['global_step'] == ev[-1][0] < 8  # early stopping: two evaluations without a lower loss
    assert f"- adapter: the step {best} checkpoint, lowest validation loss" in (run/'report.md').read_text()
    a, b = load_file(run/'adapter'/'adapter_model.safetensors'), load_file(run/'checkpoints'/f'checkpoint-{best}'/'adapter_model.safetensors')
    assert set(a) == set(b) and all(torch.equal(a[k].float(), b[k].float()) for k in a)  # the saved adapter is that step's
    ea = EventAccumulator(str(run/'tb')); ea.Reload()
    tb = [(s.step, s.value) for s in ea.Scalars('train/loss')]
    assert [x for x, _ in tb] == [r['step'] for r in recs if 'loss' in r]
    assert all(abs(v - r['loss']) <= 1e-6 * abs(r['loss']) for (_, v), r in zip(tb, [r for r in recs if 'loss' in r]))
