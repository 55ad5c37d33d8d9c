package resize

import "testing"

// TestPlanSize is the golden table of thumbnail sizes. Rows with a comment
// are the cases people argue about.
func TestPlanSize(t *testing.T) {
	type size struct{ w, h int }
	cases := []struct {
		src, box      size
		fit           Fit
		scaled, thumb size
	}{
		// Inside: fit the whole image, keep aspect.
		{size{5120, 2880}, size{200, 200}, FitInside, size{200, 113}, size{200, 113}}, // 112.5 rounds up
		{size{2880, 5120}, size{200, 200}, FitInside, size{113, 200}, size{113, 200}},
		{size{5640, 3172}, size{200, 200}, FitInside, size{200, 112}, size{200, 112}}, // 112.48
		{size{1622, 2880}, size{200, 200}, FitInside, size{113, 200}, size{113, 200}},
		{size{2560, 1600}, size{200, 200}, FitInside, size{200, 125}, size{200, 125}},
		{size{1000, 1000}, size{200, 100}, FitInside, size{100, 100}, size{100, 100}},
		{size{100, 50}, size{200, 200}, FitInside, size{100, 50}, size{100, 50}},    // never upscale
		{size{200, 200}, size{200, 200}, FitInside, size{200, 200}, size{200, 200}}, // exact fit
		{size{10000, 1}, size{200, 200}, FitInside, size{200, 1}, size{200, 1}},     // at least 1 pixel
		{size{1, 10000}, size{200, 200}, FitInside, size{1, 200}, size{1, 200}},
		{size{300, 150}, size{200, 200}, FitInside, size{200, 100}, size{200, 100}},
		// Cover: fill the box, crop the centre.
		{size{5120, 2880}, size{200, 200}, FitCover, size{356, 200}, size{200, 200}}, // 355.6
		{size{2880, 5120}, size{200, 200}, FitCover, size{200, 356}, size{200, 200}},
		{size{1000, 1000}, size{200, 100}, FitCover, size{200, 200}, size{200, 100}},
		{size{100, 50}, size{200, 200}, FitCover, size{100, 50}, size{100, 50}},    // smaller than the box: untouched
		{size{400, 100}, size{200, 200}, FitCover, size{400, 100}, size{200, 100}}, // would need upscaling: crop only
		{size{300, 300}, size{200, 200}, FitCover, size{200, 200}, size{200, 200}},
		// Fill: stretch, but never up.
		{size{5120, 2880}, size{200, 200}, FitFill, size{200, 200}, size{200, 200}},
		{size{100, 50}, size{200, 200}, FitFill, size{100, 50}, size{100, 50}},
		{size{400, 100}, size{200, 200}, FitFill, size{200, 100}, size{200, 100}},
	}
	for _, c := range cases {
		got := PlanSize(c.src.w, c.src.h, c.box.w, c.box.h, c.fit)
		want := Plan{c.scaled.w, c.scaled.h, c.thumb.w, c.thumb.h}
		if got != want {
			t.Errorf("PlanSize(%dx%d in %dx%d, %s) = %+v, want %+v", c.src.w, c.src.h, c.box.w, c.box.h, c.fit, got, want)
		}
	}
}

// TestPlanSizeInvariants checks the rules on a grid of sizes: the thumbnail
// fits the box, is never larger than the source, and Inside keeps the aspect
// ratio to within rounding.
func TestPlanSizeInvariants(t *testing.T) {
	dims := []int{1, 2, 3, 7, 99, 100, 101, 199, 200, 201, 333, 1000, 4032, 10000}
	boxes := []int{1, 16, 100, 200, 10000}
	for _, sw := range dims {
		for _, sh := range dims {
			for _, bw := range boxes {
				for _, bh := range boxes {
					for _, fit := range []Fit{FitInside, FitCover, FitFill} {
						p := PlanSize(sw, sh, bw, bh, fit)
						if p.Width < 1 || p.Height < 1 || p.Width > bw || p.Height > bh || p.Width > sw || p.Height > sh {
							t.Fatalf("%dx%d in %dx%d %s: %+v breaks the bounds", sw, sh, bw, bh, fit, p)
						}
						if p.ScaledWidth > sw || p.ScaledHeight > sh {
							t.Fatalf("%dx%d in %dx%d %s: %+v upscales", sw, sh, bw, bh, fit, p)
						}
						if fit == FitInside && p.Width > 1 && p.Height > 1 {
							// |w/h - sw/sh| within the error of rounding one side by 0.5.
							lhs := abs(p.Width*sh - p.Height*sw)
							if 2*lhs > max(sw, sh) {
								t.Fatalf("%dx%d in %dx%d: %dx%d does not keep the aspect", sw, sh, bw, bh, p.Width, p.Height)
							}
						}
					}
				}
			}
		}
	}
}
