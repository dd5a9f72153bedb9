"""openkbp: the OpenKBP head-and-neck cohort (real CTs, PTV70/63/56), the prescription as text.

Modules: ``convert`` (challenge CSVs -> the oncoseg dataset format), ``counterfactual``
(prescriptions edited on the same CT, Dice by prescription).
"""
