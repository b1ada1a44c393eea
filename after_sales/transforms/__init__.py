"""Pure transforms: DataFrame in, DataFrame out, no Dagster and no I/O."""
