def test_tiny_embeddings_are_unit_float32(tiny_embeddings):
    import numpy as np

    for collection, docs, queries in tiny_embeddings.values():
        assert docs.vectors.shape == (len(collection.doc_ids), 384)
        assert queries.vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(docs.vectors, axis=1), 1.0, atol=1e-5)
