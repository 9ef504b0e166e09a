"""Feed-job machinery every ERP feed uses: streamed upload, durable job, polars validation,
per-row rejection report, all-or-nothing or skip-bad-rows, COPY into staging, atomic apply."""
