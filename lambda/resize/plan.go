package resize

// Plan is the geometry of one thumbnail.
type Plan struct {
	// ScaledWidth x ScaledHeight is the size the whole image is resampled to.
	ScaledWidth, ScaledHeight int
	// Width x Height is the thumbnail: the scaled image after the Cover crop,
	// equal to the scaled size for Inside and Fill.
	Width, Height int
}

// PlanSize computes the thumbnail of a srcW x srcH image (as displayed) for a
// boxW x boxH box. All sizes are integers rounded half up, the limiting side
// is exactly the box, and no side is ever larger than the source's.
func PlanSize(srcW, srcH, boxW, boxH int, fit Fit) Plan {
	var p Plan
	sw, sh, bw, bh := int64(srcW), int64(srcH), int64(boxW), int64(boxH)
	switch fit {
	case FitFill:
		p.ScaledWidth, p.ScaledHeight = min(boxW, srcW), min(boxH, srcH)
	case FitCover:
		// Scale by the larger ratio so the box is covered; never above 1.
		switch {
		case bw*sh >= bh*sw && bw < sw: // width ratio is the larger
			p.ScaledWidth, p.ScaledHeight = boxW, int(roundDiv(sh*bw, sw))
		case bw*sh < bh*sw && bh < sh: // height ratio is the larger
			p.ScaledWidth, p.ScaledHeight = int(roundDiv(sw*bh, sh)), boxH
		default:
			p.ScaledWidth, p.ScaledHeight = srcW, srcH
		}
	default: // FitInside
		// Scale by the smaller ratio so the image fits; never above 1.
		switch {
		case srcW <= boxW && srcH <= boxH:
			p.ScaledWidth, p.ScaledHeight = srcW, srcH
		case bw*sh <= bh*sw: // width is the limiting side
			p.ScaledWidth, p.ScaledHeight = boxW, int(max(1, roundDiv(sh*bw, sw)))
		default:
			p.ScaledWidth, p.ScaledHeight = int(max(1, roundDiv(sw*bh, sh))), boxH
		}
	}
	p.Width, p.Height = min(p.ScaledWidth, boxW), min(p.ScaledHeight, boxH)
	return p
}

// roundDiv is n/d rounded half up, for positive n and d.
func roundDiv(n, d int64) int64 { return (2*n + d) / (2 * d) }

// transposed is the plan for the stored pixels of an image whose orientation
// swaps its axes.
func (p Plan) transposed() Plan {
	return Plan{p.ScaledHeight, p.ScaledWidth, p.Height, p.Width}
}

// cropped is the plan for an image that is already the Cover crop's region.
func (p Plan) cropped() Plan {
	return Plan{p.Width, p.Height, p.Width, p.Height}
}
