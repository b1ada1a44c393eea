"""The BI surface: table and column comments, stable bi_ views, and the read-only BI role."""
