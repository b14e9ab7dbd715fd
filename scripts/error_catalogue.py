"""Every error medtune raises, gathered from its source code: each place that builds a MedtuneError (or a subclass), the
message as the code writes it (‹…› where a value is filled in), the class, the function it is raised in, its cause and the fix.

The troubleshooting page (nbs/troubleshooting.ipynb) shows it; `python scripts/error_catalogue.py` prints it as Markdown.
"""
import ast, re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1]/'medtune'
# class -> (what it means, what to do when the message itself says nothing more)
CLASSES = {
    'ConfigError': ('a setting is wrong or does not fit this machine',
                    'change the field the message names (YAML file, panel control, command-line flag or MEDTUNE_* variable)'),
    'DataError': ('a data file or record cannot be read',
                  'fix the file and line the message names; `medtune data check FILE` lists every bad record, '
                  '`data.on_error: drop` skips them'),
    'ModelError': ('the model cannot be found, loaded or converted',
                   'check `model.name` (a local folder with config.json, a hub id while online, or embedded:smollm2-135m-instruct)'),
    'IntegrityError': ('a saved file no longer matches its manifest (changed, cut short or missing)',
                       'restore the folder from a copy, or save / export it again'),
    'TrainingError': ('training went wrong in a way a setting can fix', 'change the setting the message names and start a new run'),
    'Stopped': ('the run was stopped (Ctrl-C, or Stop in the panel)', 'continue it: `medtune train CONFIG --out RUN --resume`, or Resume in the panel'),
    'MedtuneError': ('a failure the message describes', 'do what the message says'),
}
VERBS = ('pass', 'use', 'set', 'choose', 'give', 'run', 'install', 'check', 'remove', 'lower', 'add', 'wait', 'fix', 'name',
         'list', 'put', 'export', 'launch', 'unset', 'free', 'resume', 'start', 'convert', 'evaluate', 'train', 'log in', 'edit',
         'rename', 'upload', 'delete', 'restore', 'save', 'leave', 'make', 'split', 'keep', 'compare', 'write', 'try', 'reduce',
         'shorten', 'upgrade', 'downgrade', 'pip install', 'quote', 'escape', 'select', 'open', 'see', 'drop', 'skip', 'push',
         'mount', 'move', 'call', 'apply', 'answer', 'enable', 'disable', 'expected', 'allowed', 'specify', 'stop', 'press',
         'rerun', 'retry', 're-save', 're-download', 're-compress', 're-export', 'point', 'flatten', 'create', 'download',
         'merge', 'is this', 'is it')

def _text(node, src:str)->str:
    "The message a node builds: literal text as written, ‹expression› for each part filled in at run time."
    if isinstance(node, ast.Constant) and isinstance(node.value, str): return node.value
    if isinstance(node, ast.JoinedStr):
        return ''.join(v.value if isinstance(v, ast.Constant) else f'‹{ast.get_source_segment(src, v.value)}›' for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add): return _text(node.left, src) + _text(node.right, src)
    if isinstance(node, ast.IfExp): return _text(node.body, src) if _text(node.body, src) else _text(node.orelse, src)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ('join', 'format') and node.args:
        return f'‹{ast.get_source_segment(src, node)}›'
    return f'‹{ast.get_source_segment(src, node)}›'

def _public(tree)->set:
    "The names in a module's `__all__`."
    for n in tree.body:
        if isinstance(n, ast.Assign) and any(getattr(t, 'id', None) == '__all__' for t in n.targets):
            return set(ast.literal_eval(n.value))
    return set()

def gather(pkg:Path=PKG)->list:
    "Every construction of a MedtuneError class in the package: module, function (and its docstring), class, message, line."
    out = []
    for f in sorted(pkg.glob('*.py')):
        if f.name.startswith('_'): continue
        src = f.read_text(); tree = ast.parse(src); public = _public(tree)
        def visit(node, fn=None):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)): fn = node
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CLASSES:
                msg = _text(node.args[0], src) if node.args else ''
                doc = (ast.get_docstring(fn) or '').splitlines()[0] if fn is not None and ast.get_docstring(fn) else ''
                out.append(dict(module=f.stem, function=fn.name if fn else '', doc=doc, cls=node.func.id, line=node.lineno,
                                message=' '.join(msg.split()), public=fn is not None and fn.name in public and fn.col_offset == 0))
            for ch in ast.iter_child_nodes(node): visit(ch, fn)
        visit(tree)
    return out

def fix_of(e:dict)->str:
    "What to do: the part of the message that says it (a clause starting with a verb), else the class's general fix."
    parts = [p.strip() for p in re.split(r';|: |(?<!e\.g)(?<!i\.e)\. |—', e['message']) if p.strip()]
    said = [p for p in parts if p.lower().lstrip('(').startswith(VERBS)]
    return said[-1].rstrip('.') if said else CLASSES[e['cls']][1]

def _cell(s:str)->str: return s.replace('|', '\\|').replace('\n', ' ')

def markdown(entries:list|None=None)->str:
    "The catalogue as Markdown: one table per module, one row per place an error is raised."
    entries = gather() if entries is None else entries
    L = [f"{len(entries)} places in medtune raise an error you can act on. Each row: the message as the code writes it "
         "(‹…› marks a value filled in when it happens), its class, where it is raised and why, and what to do.", '']
    for mod in dict.fromkeys(e['module'] for e in entries):
        L += [f"### medtune.{mod}", '', '| message | error | raised in (cause) | what to do |', '|---|---|---|---|']
        for e in (x for x in entries if x['module'] == mod):
            where = f"[`{e['function']}`]({mod}.html#{e['function'].lower()})" if e.get('public') else f"`{e['function'] or mod}`"
            cause = (e['doc'] or CLASSES[e['cls']][0]).rstrip('.')
            L.append(f"| {_cell(e['message']) or '(see the code)'} | `{e['cls']}` | {where}: {_cell(cause)} | {_cell(fix_of(e))} |")
        L.append('')
    return '\n'.join(L)

def count_in_source(pkg:Path=PKG)->int:
    "The same places counted by a plain text search (`Class(` outside class definitions), to check `gather` misses none."
    pat = re.compile(r'(?<![\w.])(' + '|'.join(CLASSES) + r')\(')
    n = 0
    for f in pkg.glob('*.py'):
        if f.name.startswith('_'): continue
        for line in f.read_text().splitlines():
            if not line.lstrip().startswith(('class ', '#')): n += len(pat.findall(line))
    return n

if __name__ == '__main__': print(markdown())
