#!/usr/bin/env python3
"""Pretrained-layout fixtures for PretrainedWeightsTests (run by the test, into a temp folder).

Writes, for torchvision's own `resnet18(weights=None)` and `r2plus1d_18(weights=None)` and for
PANNs' `Cnn14` (transcribed below from qiuqiangkong/audioset_tagging_cnn `pytorch/models.py`):

    NAME.safetensors     the full state dict as `safetensors.torch.save_file` writes it
                         (float32 weights, int64 `num_batches_tracked`, the classifier too);
                         Cnn14's under the prefix "model." as a flattened PANNs checkpoint
                         ({'model': state_dict}) is, with its STFT/mel front-end buffers
    NAME.input.npy       a small input
    NAME.features.npy    the eval-mode features, computed in float64: the 512-d pooled features
                         before fc (ResNets), the 2048-d `embedding` (Cnn14)

Weights are seeded random (nothing is downloaded); batch-norm affine parameters and running
statistics are randomised too so that their copying is tested.

    python3 scripts/reference/make_pretrained_fixtures.py OUT_DIR
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The safetensors writer and the torchvision import (which also works where torchvision's C++
# ops do not load next to a CPU torch) are the package's own.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from sonodual.checkpoint import write_safetensors  # noqa: E402
from sonodual.models import _torchvision  # noqa: E402


def state_arrays(model, prefix=""):
    return {prefix + k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def randomize_batch_norms(model, generator):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=generator))
                m.bias.copy_(0.1 * torch.randn(c, generator=generator))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(c, generator=generator))
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=generator)))


# --- PANNs Cnn14 (qiuqiangkong/audioset_tagging_cnn, pytorch/models.py), keys and forward as
# there. The torchlibrosa front end (Spectrogram, LogmelFilterBank) is left out: forward takes
# the log-mel [N, 1, T, 64]; its buffers are still written to the file, as a checkpoint has them.
def init_layer(layer):
    nn.init.xavier_uniform_(layer.weight)
    if hasattr(layer, "bias") and layer.bias is not None:
        layer.bias.data.fill_(0.0)


def init_bn(bn):
    bn.bias.data.fill_(0.0)
    bn.weight.data.fill_(1.0)


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        init_layer(self.conv1)
        init_layer(self.conv2)
        init_bn(self.bn1)
        init_bn(self.bn2)

    def forward(self, input, pool_size=(2, 2), pool_type="avg"):
        x = F.relu_(self.bn1(self.conv1(input)))
        x = F.relu_(self.bn2(self.conv2(x)))
        if pool_type == "max":
            x = F.max_pool2d(x, kernel_size=pool_size)
        elif pool_type == "avg":
            x = F.avg_pool2d(x, kernel_size=pool_size)
        elif pool_type == "avg+max":
            x = F.avg_pool2d(x, kernel_size=pool_size) + F.max_pool2d(x, kernel_size=pool_size)
        return x


class Cnn14(nn.Module):
    def __init__(self, mel_bins=64, classes_num=527):
        super().__init__()
        self.bn0 = nn.BatchNorm2d(mel_bins)
        self.conv_block1 = ConvBlock(1, 64)
        self.conv_block2 = ConvBlock(64, 128)
        self.conv_block3 = ConvBlock(128, 256)
        self.conv_block4 = ConvBlock(256, 512)
        self.conv_block5 = ConvBlock(512, 1024)
        self.conv_block6 = ConvBlock(1024, 2048)
        self.fc1 = nn.Linear(2048, 2048, bias=True)
        self.fc_audioset = nn.Linear(2048, classes_num, bias=True)
        init_bn(self.bn0)
        init_layer(self.fc1)
        init_layer(self.fc_audioset)

    def forward(self, x):
        """x: log-mel (batch_size, 1, time_steps, mel_bins), what the front end yields."""
        x = x.transpose(1, 3)
        x = self.bn0(x)
        x = x.transpose(1, 3)
        for i, block in enumerate([self.conv_block1, self.conv_block2, self.conv_block3,
                                   self.conv_block4, self.conv_block5]):
            x = block(x, pool_size=(2, 2), pool_type="avg")
            x = F.dropout(x, p=0.2, training=self.training)
        x = self.conv_block6(x, pool_size=(1, 1), pool_type="avg")
        x = F.dropout(x, p=0.2, training=self.training)
        x = torch.mean(x, dim=3)
        (x1, _) = torch.max(x, dim=2)
        x2 = torch.mean(x, dim=2)
        x = x1 + x2
        x = F.dropout(x, p=0.5, training=self.training)
        x = F.relu_(self.fc1(x))
        embedding = F.dropout(x, p=0.5, training=self.training)
        clipwise_output = torch.sigmoid(self.fc_audioset(x))
        return {"clipwise_output": clipwise_output, "embedding": embedding}


def write_case(out, name, model, x, features, prefix="", extra=None):
    arrays = state_arrays(model, prefix)
    arrays.update(extra or {})
    write_safetensors(arrays, f"{out}/{name}.safetensors")
    model.eval().double()
    with torch.no_grad():
        y = features(model, x.double())
    np.save(f"{out}/{name}.input.npy", x.numpy().astype(np.float32))
    np.save(f"{out}/{name}.features.npy", y.numpy().astype(np.float32))


def main():
    out = sys.argv[1]
    torch.set_num_threads(1)
    torch.manual_seed(12)
    generator = torch.Generator().manual_seed(12)
    image_resnet, video_resnet = _torchvision()
    resnet18, r2plus1d_18 = image_resnet.resnet18, video_resnet.r2plus1d_18

    def pooled(model, x):  # the features before fc
        model.fc = nn.Identity()
        return model(x)

    image = resnet18(weights=None)
    randomize_batch_norms(image, generator)
    write_case(out, "resnet18", image, torch.rand(1, 3, 64, 64, generator=generator), pooled)

    video = r2plus1d_18(weights=None)
    randomize_batch_norms(video, generator)
    write_case(out, "r2plus1d_18", video, torch.rand(1, 3, 4, 32, 32, generator=generator), pooled)

    audio = Cnn14()
    randomize_batch_norms(audio, generator)
    front_end = {  # torchlibrosa's buffers in a PANNs checkpoint (window 1024, 64 mels)
        "model.spectrogram_extractor.stft.conv_real.weight": np.zeros((513, 1, 1024), np.float32),
        "model.spectrogram_extractor.stft.conv_imag.weight": np.zeros((513, 1, 1024), np.float32),
        "model.logmel_extractor.melW": np.zeros((513, 64), np.float32),
    }
    write_case(out, "cnn14", audio, torch.randn(1, 1, 64, 64, generator=generator),
               lambda m, x: m(x)["embedding"], prefix="model.", extra=front_end)


if __name__ == "__main__":
    main()
