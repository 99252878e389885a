"""城乡居民医保征缴 (险种 390): yearly bills, payments applied to them, the yearly billing job (issue #15)."""
