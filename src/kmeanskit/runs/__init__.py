"""Run folders: what ``kmeanskit cluster`` writes and the report reads.

Shared by image and table runs, and neither: nothing here imports :mod:`kmeanskit.images`,
:mod:`kmeanskit.report` or the command line. :mod:`.layout` names every file and declares
the summary's schema; :mod:`.folder` checks an output folder, stages a run and holds the
writers both kinds share; :mod:`.tables` is the table pipeline
(:func:`~kmeanskit.runs.tables.cluster_table`, :func:`~kmeanskit.runs.tables.predict_table`).
"""
