"A data format of the user's own, registered from outside medtune: {q, a} records, read as question/answer ones."
from medtune.formats import FORMATS, Format

def qa_pair_example(row, where, task, system, phrasings, seed):
    "A {q, a} record, built by the question/answer format: the same checks, wordings and groups."
    return FORMATS['qa'].to_example({'question': row['q'], 'answer': row['a']}, where, task, system, phrasings, seed)

FORMATS.register(Format('qa_pair', ('q', 'a'), 'qa', qa_pair_example, hint='q/a'))
