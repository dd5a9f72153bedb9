"""The department's interfaces: the Orthanc REST bridge (:mod:`~oncoseg.pacs.orthanc`) and
the other PACS/EMR links beside it. No ML here: segmentation goes through the one
prediction pipeline, :func:`oncoseg.infer.pipeline.run_prediction`."""
