"""Benchmarks (``oncoseg bench``): the train step split into parts, warm and cold predict and
peak memory (:mod:`~oncoseg.bench.model`, one subprocess per configuration:
:mod:`~oncoseg.bench.child`), the machine's Conv3d peak (:mod:`~oncoseg.bench.peak`), the
text path (:mod:`~oncoseg.bench.text`) and a clinical day through Orthanc, MLLP and the
watcher (:mod:`~oncoseg.bench.day`). The layer above every entry point it measures."""
