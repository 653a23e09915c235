"""Page images in, character images out: loading, registration and segmentation of forms."""
