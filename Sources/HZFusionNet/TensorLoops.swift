import HybridZoom

/// An image's activation in channels-last order: channel `c` of cell (x, y) is
/// `pointer[(y · width + x) · channels + c]`.
struct Activation {
    var pointer: UnsafeMutablePointer<Float>
    var channels: Int
    var width: Int
    var height: Int
}

/// The network's input for `window` of the padded image, written into `input` (48 channels at
/// 1/4 resolution): the image padded right and bottom by edge replication, as `fuse()` pads it,
/// and 4×4 space-to-depth, as PyTorch's `pixel_unshuffle` orders it (channel c·16 + i·4 + j of
/// cell (x, y) is plane c's pixel (4x + j, 4y + i)), in one pass.
func spaceToDepth(_ planes: [UnsafeBufferPointer<Float>], size: Size, window: PixelRect, into input: Activation) {
    let block = FusionArchitecture.block
    precondition(input.channels == planes.count * block * block && input.width * block == window.width)
    let (lastX, lastY) = (size.width - 1, size.height - 1)
    parallelChunks(input.height, itemCost: window.width * block) { cellRows in
        for cellY in cellRows {
            var cell = input.pointer + cellY * input.width * input.channels
            for cellX in 0..<input.width {
                let x = window.x + cellX * block
                for plane in planes {
                    for i in 0..<block {
                        let row = plane.baseAddress! + min(window.y + cellY * block + i, lastY) * size.width
                        for j in 0..<block { cell[j] = row[min(x + j, lastX)] }
                        cell += block
                    }
                }
            }
        }
    }
}

/// Nearest-neighbour ×2 upsampling of `coarse` followed by channel concatenation with `skip`,
/// written into `joined` in one pass: cell (x, y) holds coarse (x/2, y/2), then skip (x, y).
func upsampleConcatenating(coarse: Activation, skip: Activation, into joined: Activation) {
    precondition(joined.channels == coarse.channels + skip.channels && joined.width == skip.width
                 && joined.height == skip.height && skip.width == 2 * coarse.width && skip.height == 2 * coarse.height)
    parallelChunks(joined.height, itemCost: joined.width * joined.channels / 16) { rows in
        for y in rows {
            let coarseRow = coarse.pointer + (y / 2) * coarse.width * coarse.channels
            var source = skip.pointer + y * skip.width * skip.channels
            var target = joined.pointer + y * joined.width * joined.channels
            for x in 0..<joined.width {
                target.update(from: coarseRow + (x / 2) * coarse.channels, count: coarse.channels)
                (target + coarse.channels).update(from: source, count: skip.channels)
                source += skip.channels
                target += joined.channels
            }
        }
    }
}

/// Y_src + residual for the pixels of `rect` (image coordinates, inside the image), the residual
/// being the head's 16 channels at 1/4 resolution turned back into pixels (PyTorch's
/// `pixel_shuffle`: pixel (4x + j, 4y + i) is channel i·4 + j of cell (x, y)) for the tile whose
/// window starts at `origin`.
func depthToSpaceAddingSource(_ head: Activation, origin: (x: Int, y: Int), source: UnsafeBufferPointer<Float>,
                              width: Int, rect: PixelRect, into output: UnsafeMutableBufferPointer<Float>) {
    let block = FusionArchitecture.block
    precondition(head.channels == block * block)
    parallelChunks(rect.height, itemCost: rect.width) { rows in
        for y in rows.lowerBound + rect.y ..< rows.upperBound + rect.y {
            let windowY = y - origin.y
            let residuals = head.pointer + (windowY / block * head.width * block + windowY % block) * block
            for x in rect.x ..< rect.x + rect.width {
                let windowX = x - origin.x
                let pixel = y * width + x
                output[pixel] = source[pixel] + residuals[windowX / block * block * block + windowX % block]
            }
        }
    }
}
