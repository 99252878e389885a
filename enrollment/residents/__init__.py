"""城乡居民参保登记 (险种 390): households, residents' spans, newborns (issue #15)."""
