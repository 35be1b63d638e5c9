/* mcf_source_stm32_dfsdm.c - a PDM microphone on an STM32 DFSDM, on Zephyr, through the STM32Cube HAL
 * (audio pipelines; e.g. disco_l475_iot1's MP34DT01 on DFSDM1).
 *
 * Zephyr 4.3 has no DFSDM audio driver and its devicetree does not describe the DFSDM, so this source
 * drives the peripheral with the HAL that Zephyr ships in hal_stm32 (stm32l4xx_hal_dfsdm.c and
 * stm32l4xx_hal_dma.c, compiled because the project's Kconfig option MCF_AUDIO_STM32_DFSDM selects
 * USE_STM32_HAL_DFSDM and USE_STM32_HAL_DMA). Every number comes from mcf_sensor_config.h, which
 * mcuforge writes from the board file (pins, channel, filter, DMA channel and request) and from
 * generator/sensor/microphone.py (clock divider, sinc order, oversampling, right shift):
 *
 *   kernel clock (system clock, DFSDM1SEL) / MCF_DFSDM_CLOCK_DIVIDER = the PDM clock on CKOUT
 *   the channel samples DATINn on MCF_DFSDM_SPI_EDGE (SPI mode, internal clock = CKOUT)
 *   filter: Sinc order MCF_DFSDM_SINC_ORDER, decimation MCF_DFSDM_FOSR, integrator bypassed
 *           -> MCF_AUDIO_RATE_HZ; full scale is FOSR^order, shifted right by MCF_DFSDM_RIGHT_SHIFT
 *           so that it fits int16 (the 24-bit result sits in bits 31:8 of the data register)
 *   continuous regular conversions, software-started, results moved by DMA in circular mode
 *
 * Capture context: the DMA channel's interrupt (IRQ_CONNECT at MCF_AUDIO_IRQ_PRIORITY). At each half
 * transfer and transfer complete, the HAL calls HAL_DFSDM_FilterRegConvHalfCpltCallback /
 * HAL_DFSDM_FilterRegConvCpltCallback; the half that the DMA has just filled (MCF_AUDIO_BLOCK_SAMPLES
 * int32 results) is converted to int16 and put, whole, into the SPSC FIFO of mcf_audio_fifo.h while
 * the DMA fills the other half. DMA rather than the filter's end-of-conversion interrupt: one
 * interrupt per block (10 ms at 16 kHz) instead of one per sample (every 62.5 us, 5,000 cycles at
 * 80 MHz), and the samples survive up to a block's time of interrupt latency, where the per-sample
 * interrupt loses one (regular overrun) whenever interrupts are masked longer than one sample period.
 * A block that finds the FIFO full is dropped whole and counted, like DMA and filter errors
 * (mcf_source_overruns). The main thread's mcf_source_poll() takes one sample at a time.
 *
 * RAM (static, no heap): the DMA buffer (2 x MCF_AUDIO_BLOCK_SAMPLES x 4 bytes), one int16 block,
 * the FIFO (MCF_AUDIO_FIFO_SAMPLES x 2 bytes) and the HAL handles.
 *
 * Zephyr's DMA driver must stay off (CONFIG_DMA_STM32): it connects every interrupt of the DMA
 * controller it owns; the pins are configured with Zephyr's pinctrl API. */
#if defined(__ZEPHYR__)

#include <errno.h>
#include <stdint.h>

#include <soc.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/pinctrl.h>
#include <zephyr/irq.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/atomic.h>
#include <zephyr/sys/util.h>

#include <stm32l4xx_hal.h>

#include "mcf_audio_fifo.h"
#include "mcf_sensor.h"
#include "mcf_source.h"

#if !defined(CONFIG_MCF_AUDIO_STM32_DFSDM) || !defined(CONFIG_USE_STM32_HAL_DFSDM) || \
    !defined(CONFIG_USE_STM32_HAL_DMA)
#error "the DFSDM microphone source needs CONFIG_MCF_AUDIO_STM32_DFSDM=y (prj.conf; the option is in the model folder's Kconfig)"
#endif
#if defined(CONFIG_DMA_STM32) && DT_NODE_HAS_STATUS_OKAY(MCF_DFSDM_DMA_NODE)
#error "Zephyr's DMA driver owns this DMA controller's interrupts: set CONFIG_DMA=n (or CONFIG_DMA_STM32=n) for the DFSDM microphone source"
#endif
#if !defined(MCF_AUDIO_DFSDM) || MCF_SENSOR_CHANNELS != 1
#error "mcf_sensor_config.h does not describe a DFSDM microphone (mono): run `mcuforge update`"
#endif

/* The divider and oversampling assume this kernel clock: the system clock of the board's devicetree. */
BUILD_ASSERT(DT_PROP(DT_NODELABEL(rcc), clock_frequency) == MCF_DFSDM_KERNEL_CLOCK_HZ,
             "the devicetree's system clock is not the one mcuforge computed the DFSDM divider for");
BUILD_ASSERT(MCF_DFSDM_KERNEL_CLOCK_HZ / (MCF_DFSDM_CLOCK_DIVIDER * MCF_DFSDM_FOSR) == MCF_AUDIO_RATE_HZ,
             "DFSDM clock divider and oversampling do not give the pipeline's rate");

#ifndef MCF_AUDIO_IRQ_PRIORITY
#define MCF_AUDIO_IRQ_PRIORITY 2
#endif
#define DMA_SAMPLES (2u * MCF_AUDIO_BLOCK_SAMPLES)

static DFSDM_Channel_HandleTypeDef mic_channel;
static DFSDM_Filter_HandleTypeDef mic_filter;
static DMA_HandleTypeDef mic_dma;
static int32_t mcf_dfsdm_dma_buf[DMA_SAMPLES] MCF_SENSOR_ATTR __aligned(4);
static int16_t mcf_dfsdm_block[MCF_AUDIO_BLOCK_SAMPLES];
static mcf_audio_fifo mcf_audio_fifo_buf MCF_SENSOR_ATTR;
static atomic_t capture_errors;
static int started;

static const pinctrl_soc_pin_t mic_pins[] = {
    {.pinmux = MCF_DFSDM_PIN_CKOUT,
     .pincfg = STM32_OTYPER_PUSH_PULL | STM32_PUPDR_NO_PULL | STM32_OSPEEDR_VERY_HIGH_SPEED},
    {.pinmux = MCF_DFSDM_PIN_DATIN,
     .pincfg = STM32_OTYPER_PUSH_PULL | STM32_PUPDR_NO_PULL | STM32_OSPEEDR_VERY_HIGH_SPEED},
};

/* Interrupt context: the half of the DMA buffer that was just filled -> int16 -> FIFO. */
static void hand_over(const int32_t *half)
{
    uint32_t i;

    for (i = 0; i < MCF_AUDIO_BLOCK_SAMPLES; ++i) {
        const int32_t v = half[i] >> 8; /* the 24-bit result is in bits 31:8 (7:0: channel, flags) */

        mcf_dfsdm_block[i] = (int16_t)(v > 32767 ? 32767 : (v < -32768 ? -32768 : v));
    }
    (void)mcf_audio_fifo_put(&mcf_audio_fifo_buf, mcf_dfsdm_block, MCF_AUDIO_BLOCK_SAMPLES);
}

/* The HAL's weak callbacks (USE_HAL_DFSDM_REGISTER_CALLBACKS is 0 in hal_stm32's configuration). */
void HAL_DFSDM_FilterRegConvHalfCpltCallback(DFSDM_Filter_HandleTypeDef *hdfsdm_filter)
{
    if (hdfsdm_filter == &mic_filter) {
        hand_over(&mcf_dfsdm_dma_buf[0]);
    }
}

void HAL_DFSDM_FilterRegConvCpltCallback(DFSDM_Filter_HandleTypeDef *hdfsdm_filter)
{
    if (hdfsdm_filter == &mic_filter) {
        hand_over(&mcf_dfsdm_dma_buf[MCF_AUDIO_BLOCK_SAMPLES]);
    }
}

void HAL_DFSDM_FilterErrorCallback(DFSDM_Filter_HandleTypeDef *hdfsdm_filter)
{
    if (hdfsdm_filter == &mic_filter) {
        (void)atomic_inc(&capture_errors); /* DMA transfer error or regular overrun */
    }
}

static void mcf_dfsdm_dma_isr(const void *arg)
{
    ARG_UNUSED(arg);
    HAL_DMA_IRQHandler(&mic_dma);
}

int mcf_source_init(void)
{
    int ret;

    ret = pinctrl_configure_pins(mic_pins, ARRAY_SIZE(mic_pins), PINCTRL_REG_NONE);
    if (ret != 0) {
        return ret;
    }
    /* kernel clock: the system clock; the DFSDM and DMA controller clocks on */
    __HAL_RCC_DFSDM1_CONFIG(RCC_DFSDM1CLKSOURCE_SYSCLK);
    __HAL_RCC_DFSDM1_CLK_ENABLE();
    MCF_DFSDM_DMA_CLK_ENABLE();

    /* channel: the microphone's data on its own DATIN pin, SPI mode clocked by CKOUT */
    mic_channel.Instance = MCF_DFSDM_CHANNEL;
    mic_channel.Init.OutputClock.Activation = ENABLE;
    mic_channel.Init.OutputClock.Selection = DFSDM_CHANNEL_OUTPUT_CLOCK_SYSTEM;
    mic_channel.Init.OutputClock.Divider = MCF_DFSDM_CLOCK_DIVIDER;
    mic_channel.Init.Input.Multiplexer = DFSDM_CHANNEL_EXTERNAL_INPUTS;
    mic_channel.Init.Input.DataPacking = DFSDM_CHANNEL_STANDARD_MODE;
    mic_channel.Init.Input.Pins = DFSDM_CHANNEL_SAME_CHANNEL_PINS;
    mic_channel.Init.SerialInterface.Type = MCF_DFSDM_SPI_EDGE;
    mic_channel.Init.SerialInterface.SpiClock = DFSDM_CHANNEL_SPI_CLOCK_INTERNAL;
    mic_channel.Init.Awd.FilterOrder = DFSDM_CHANNEL_FASTSINC_ORDER; /* analog watchdog unused */
    mic_channel.Init.Awd.Oversampling = 1;
    mic_channel.Init.Offset = 0;
    mic_channel.Init.RightBitShift = MCF_DFSDM_RIGHT_SHIFT;
    if (HAL_DFSDM_ChannelInit(&mic_channel) != HAL_OK) {
        return -EIO;
    }

    /* DMA: filter results (32-bit register) into the circular buffer, half and full interrupts */
    mic_dma.Instance = MCF_DFSDM_DMA_CHANNEL;
    mic_dma.Init.Request = MCF_DFSDM_DMA_REQUEST;
    mic_dma.Init.Direction = DMA_PERIPH_TO_MEMORY;
    mic_dma.Init.PeriphInc = DMA_PINC_DISABLE;
    mic_dma.Init.MemInc = DMA_MINC_ENABLE;
    mic_dma.Init.PeriphDataAlignment = DMA_PDATAALIGN_WORD;
    mic_dma.Init.MemDataAlignment = DMA_MDATAALIGN_WORD;
    mic_dma.Init.Mode = DMA_CIRCULAR;
    mic_dma.Init.Priority = DMA_PRIORITY_HIGH;
    if (HAL_DMA_Init(&mic_dma) != HAL_OK) {
        return -EIO;
    }

    /* filter: Sinc^N decimating by FOSR, integrator bypassed, continuous software-started regular
     * conversions (fast mode) moved by DMA */
    mic_filter.Instance = MCF_DFSDM_FILTER;
    mic_filter.Init.RegularParam.Trigger = DFSDM_FILTER_SW_TRIGGER;
    mic_filter.Init.RegularParam.FastMode = ENABLE;
    mic_filter.Init.RegularParam.DmaMode = ENABLE;
    mic_filter.Init.InjectedParam.Trigger = DFSDM_FILTER_SW_TRIGGER;
    mic_filter.Init.InjectedParam.ScanMode = DISABLE;
    mic_filter.Init.InjectedParam.DmaMode = DISABLE;
    mic_filter.Init.InjectedParam.ExtTrigger = DFSDM_FILTER_EXT_TRIG_TIM1_TRGO;
    mic_filter.Init.InjectedParam.ExtTriggerEdge = DFSDM_FILTER_EXT_TRIG_RISING_EDGE;
    mic_filter.Init.FilterParam.SincOrder = MCF_DFSDM_SINC_ORDER;
    mic_filter.Init.FilterParam.Oversampling = MCF_DFSDM_FOSR;
    mic_filter.Init.FilterParam.IntOversampling = 1;
    if (HAL_DFSDM_FilterInit(&mic_filter) != HAL_OK) {
        return -EIO;
    }
    __HAL_LINKDMA(&mic_filter, hdmaReg, mic_dma);
    if (HAL_DFSDM_FilterConfigRegChannel(&mic_filter, MCF_DFSDM_CHANNEL_NUMBER, DFSDM_CONTINUOUS_CONV_ON) != HAL_OK) {
        return -EIO;
    }

    IRQ_CONNECT(MCF_DFSDM_DMA_IRQN, MCF_AUDIO_IRQ_PRIORITY, mcf_dfsdm_dma_isr, NULL, 0);
    irq_enable(MCF_DFSDM_DMA_IRQN);

    if (HAL_DFSDM_FilterRegularStart_DMA(&mic_filter, mcf_dfsdm_dma_buf, DMA_SAMPLES) != HAL_OK) {
        irq_disable(MCF_DFSDM_DMA_IRQN);
        return -EIO;
    }
    started = 1;
    return 0;
}

int mcf_source_poll(float *sample)
{
    return mcf_audio_fifo_poll(&mcf_audio_fifo_buf, started, sample);
}

int mcf_source_poll_frame(void *input)
{
    (void)input; /* samples, not frames */
    return 0;
}

unsigned long mcf_source_overruns(void)
{
    return (unsigned long)mcf_audio_fifo_dropped(&mcf_audio_fifo_buf) + (unsigned long)atomic_get(&capture_errors);
}

const char *mcf_source_name(void)
{
    return "stm32 dfsdm";
}

#endif /* __ZEPHYR__ */
