"""Output-size arithmetic shared by the layers that slide a window: Conv2d and the pools."""

from __future__ import annotations

from engine.i18n import N_, _, ngettext
from engine.layers.base import Layer
from engine.ops.shapes import ShapeError, conv_output_size, dropped_pixels, pair, size_formula


class _Windowed(Layer):
    """Shared arithmetic of layers that slide a window: Conv2d and the pools."""

    ceil_mode: bool = False

    def _axes(self, in_shape):
        """Per axis (name, n, kernel, stride, padding, dilation) for height and width."""
        self._need_map(in_shape)
        k = pair(self.kernel_size, "kernel_size")
        s = pair(self.stride if self.stride is not None else self.kernel_size, "stride")
        p = pair(self.padding, "padding")
        d = pair(getattr(self, "dilation", 1), "dilation")
        return [(axis, in_shape[1 + i], k[i], s[i], p[i], d[i])
                for i, axis in enumerate((N_("height"), N_("width")))]

    def _out_hw(self, in_shape, strict: bool) -> tuple[int, int]:
        sizes = []
        for axis, n, k, s, p, d in self._axes(in_shape):
            try:
                sizes.append(conv_output_size(n, k, s, p, d, strict=strict and not self.ceil_mode,
                                              ceil_mode=self.ceil_mode))
            except ShapeError as error:
                raise ShapeError(_("{type_name}: {axis}: {error}").format(
                    type_name=self.type_name, axis=_(axis), error=error), error.field) from None
        return sizes[0], sizes[1]

    def size_formula(self, *in_shapes) -> str:
        axes = self._axes(in_shapes[0])
        texts = [size_formula(n, k, s, p, d, self.ceil_mode) for _, n, k, s, p, d in axes]
        if axes[0][1:] == axes[1][1:]:
            return texts[0]
        return f"H: {texts[0]}; W: {texts[1]}"

    def floor_note(self, *in_shapes) -> str:
        if self.ceil_mode:
            return ""
        drops = [(axis, dropped_pixels(n, k, s, p, d)) for axis, n, k, s, p, d in
                 self._axes(in_shapes[0])]
        parts = [(count, axis) for axis, count in drops if count]
        if not parts:
            return ""
        (count, axis), *second = parts
        if not second:
            return ngettext("the floor drops {count} border pixel in {axis}: no window reaches"
                            " them",
                            "the floor drops {count} border pixels in {axis}: no window reaches"
                            " them", count).format(count=count, axis=_(axis))
        count2, axis2 = second[0]
        return ngettext("the floor drops {count} border pixel in {axis} and {count2} in {axis2}:"
                        " no window reaches them",
                        "the floor drops {count} border pixels in {axis} and {count2} in"
                        " {axis2}: no window reaches them", count).format(
            count=count, axis=_(axis), count2=count2, axis2=_(axis2))
