"""The offline jobs on Apache Spark (``prism job <name> --engine spark``): the same
tables as the local engine (``jobs/``), computed with the DataFrame API.

pyspark is optional (``pip install 'prism-rec[spark]'``): nothing outside this package
and ``models/spark_trainset.py`` imports it, and they are imported only when
``--engine spark`` is asked for. See docs/strategies/recall-jobs.md.
"""
