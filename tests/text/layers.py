"""The de-identifier without its learned layer: the rules and the safe-word layer, whose
behaviour the rule tests specify (the learned layer is judged on whole corpora instead:
tests/text/test_deid_learned.py)."""

from functools import partial

from oncoseg.text import deid

deidentify = partial(deid.deidentify, learned=False)
find_identifiers = partial(deid.find_identifiers, learned=False)
