"""2-D potential energy on a grid via np.meshgrid; fit Gaussian bump centers/widths."""
import numpy as np

def gaussian_bump(XX, YY, cx, cy, width):
    return np.exp(-((XX - cx) ** 2 + (YY - cy) ** 2) / (2 * width ** 2))

def field(params, XX, YY):
    return sum(a * gaussian_bump(XX, YY, cx, cy, w) for a, cx, cy, w in params)

def objective(params, target, n=12):
    xs = np.linspace(-1, 1, n)
    XX, YY = np.meshgrid(xs, xs)
    phi = field(params, XX, YY)
    gx, gy = np.gradient(phi)
    smooth = np.mean(gx ** 2 + gy ** 2)
    return np.mean((phi - target) ** 2) + 0.01 * smooth

def ARGS():
    xs = np.linspace(-1, 1, 12)
    XX, YY = np.meshgrid(xs, xs)
    target = gaussian_bump(XX, YY, 0.3, -0.2, 0.4) - 0.5 * gaussian_bump(XX, YY, -0.4, 0.4, 0.3)
    params = [(np.float64(0.8), np.float64(0.2), np.float64(-0.1), np.float64(0.5)),
              (np.float64(-0.3), np.float64(-0.3), np.float64(0.3), np.float64(0.4))]
    return (params, target)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"fit: {objective(*ARGS()):.5f}")
