"""Image-synthesis metrics: FID, segmentation agreement of generated images, reconstruction quality."""
