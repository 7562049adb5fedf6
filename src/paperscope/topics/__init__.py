"""Topics found in the papers and a map of the field (issue 28).

`cluster` (two levels of spherical k-means, ids kept across rebuilds), `label` (class-based tf-idf over titles and
abstracts with the keyword index's analyzer; NPMI and diversity), `layout` (PCA → centre t-SNE → kNN refinement;
new papers placed by their neighbours), `build` (the rebuild and the `update` step, reading and writing the store).
Topics live in the store (both backends), not in the index generation: follows, digests and `topic:` refer to
topic ids that must outlive an index rebuild, and a server install has no index generation to hold them.
"""
