{%- set m = cookiecutter.mcuforge -%}
"""Hardware-in-the-loop tests for {{ m.project_name }} (yours: mcuforge wrote this file once).

    mcuforge build && pytest hil_tests --mcuforge-project .            # the board's USB port{% if m.emulated %} / QEMU{% endif %}
    pytest hil_tests --mcuforge-project . --mcuforge-port /dev/ttyACM0 # a given port

The `dut` fixture (from mcuforge's pytest plugin) connects to the device, checks that it runs this
project's model, and closes the connection at the end. Add tests with your own recordings here.
"""

import numpy as np

from mcuforge.generator.validate import random_inputs


def test_device_runs_this_model(dut):
    assert dut.info.num_inputs == {{ m.inputs | length }}
    assert dut.info.num_outputs == {{ m.outputs | length }}


def test_random_inputs_match_tflite_micro(dut):
    for inputs in random_inputs(dut.graph, 3, seed=1):
        result = dut.infer(inputs)
        for got, want in zip(result.outputs, dut.reference(inputs)):
            np.testing.assert_array_equal(got, want.reshape(got.shape))
        assert result.elapsed > 0
{%- if m.sensor %}


def test_sensor_glue_builds_the_host_pipelines_inputs(dut):
    """Samples streamed into the firmware's sensor glue: each window's input tensor equals the host
    pipeline's (mcuforge.yaml `sensor:`) bit for bit, and the outputs equal TFLite Micro's on it.
    Replace the random samples by a recording of yours (mcuforge test --replay does the same)."""
    p = dut.pipeline
{%- if m.sensor.camera %}
    samples = np.random.default_rng(2).integers(0, 256, (4, 4 * p.window), dtype=np.uint8)  # 4 raw frames
{%- else %}
    samples = np.random.default_rng(2).normal(0.0, 1.0, (p.window + 3 * p.hop, p.num_channels)).astype(np.float32)
{%- endif %}
    windows = dut.replay(samples)
    want = dut.sensor_inputs(samples)
    assert len(windows) == len(want) == 4
    for window, x in zip(windows, want):
        assert window.input.tobytes() == x.tobytes()
        for got, ref in zip(window.outputs, dut.reference([x])):
            np.testing.assert_array_equal(got, ref.reshape(got.shape))
{%- endif %}
