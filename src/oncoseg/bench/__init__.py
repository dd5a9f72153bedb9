"""Benchmarks (``oncoseg bench``): the train step split into parts, warm and cold predict and
peak memory (:mod:`~oncoseg.bench.model`, one subprocess per configuration:
:mod:`~oncoseg.bench.child`), the machine's Conv3d peak (:mod:`~oncoseg.bench.peak`) and the
text path (:mod:`~oncoseg.bench.text`)."""
