"Prompt functions of lm-evaluation-harness's own medical tasks, imported (not copied) so the local tasks here format items exactly as lm-eval does."
from lm_eval.tasks.medqa.preprocess_medqa import doc_to_text as medqa_doc_to_text, doc_to_target as medqa_doc_to_target  # medqa_4options
from lm_eval.tasks.medmcqa.utils_medmcqa import doc_to_text as medmcqa_doc_to_text  # medmcqa
from lm_eval.tasks.pubmedqa.preprocess_pubmedqa import doc_to_text as pubmedqa_doc_to_text  # pubmedqa

def medtune_extract(resps, docs):
    "lm-eval filter for the medtune_generate_* tasks: the option letter each reply names (medtune.evaluate.extract_answer), '[invalid]' when none."
    from medtune.evaluate import extract_answer
    return [[extract_answer(r, dict(zip(d['letters'], d['texts']))) or '[invalid]' for r in rs] for rs, d in zip(resps, docs)]
