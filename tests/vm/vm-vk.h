/* SPDX-License-Identifier: MIT */
#pragma once
/**
 * Guest-side Vulkan helpers of the vm test bed: lavapipe as the consumer of real DMA-BUFs.
 * Imports a DMA-BUF as a buffer or as a LINEAR image (explicit row pitch through
 * VK_EXT_image_drm_format_modifier), copies it into a host-visible buffer, and synchronises the
 * copy with sync_files: waiting on one through a temporary SYNC_FD semaphore payload, or
 * exporting the copy's completion as one. Test code: it talks to Vulkan directly, not through
 * src/core, so that the bed checks the kernel and the driver independently of castrelay.
 * Failures are logged to stderr with the VkResult; functions return NULL/false/-1.
 * One thread per struct cr_vm_vk.
 */
#include <stdbool.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

struct cr_vm_vk {
	VkInstance instance;
	VkPhysicalDevice phys;
	VkDevice dev;
	VkQueue queue;
	uint32_t queue_family;
	/** VK_QUEUE_FAMILY_FOREIGN_EXT when supported, else VK_QUEUE_FAMILY_EXTERNAL. */
	uint32_t foreign_family;
	VkCommandPool pool;
	VkPhysicalDeviceMemoryProperties mem_props;
	char device_name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
	/** Device extensions that exist, all of them enabled. */
	struct {
		bool external_memory_fd;
		bool external_memory_dma_buf;
		bool image_drm_format_modifier;
		bool external_semaphore_fd;
		bool queue_family_foreign;
	} ext;
	PFN_vkGetMemoryFdPropertiesKHR get_memory_fd_properties;
	PFN_vkImportSemaphoreFdKHR import_semaphore_fd;
	PFN_vkGetSemaphoreFdKHR get_semaphore_fd;
};

/**
 * Creates an instance and a device on lavapipe (VK_DRIVER_ID_MESA_LLVMPIPE; other drivers are
 * ignored, their absence of DMA-BUF support would only hide bed failures) with every extension
 * of struct cr_vm_vk.ext that it has. Costs 6-8 s inside the TCG guest: create it once per
 * process. Returns NULL when there is no lavapipe or creation fails.
 */
struct cr_vm_vk *cr_vm_vk_create(void);

/** Waits for the device to be idle and destroys it. NULL is a no-op. */
void cr_vm_vk_destroy(struct cr_vm_vk *vk);

/**
 * Whether SYNC_FD payloads can be imported into (@import) and exported from (@export) binary
 * semaphores (vkGetPhysicalDeviceExternalSemaphoreProperties).
 */
void cr_vm_vk_sync_fd_features(struct cr_vm_vk *vk, bool *import, bool *export);

/** Whether a DMA-BUF can be imported as the memory of a transfer-source buffer. */
bool cr_vm_vk_dmabuf_buffer_importable(struct cr_vm_vk *vk);

/**
 * Whether @format supports @modifier for a transfer-source image
 * (VkDrmFormatModifierPropertiesListEXT). False without image_drm_format_modifier.
 */
bool cr_vm_vk_format_has_modifier(struct cr_vm_vk *vk, VkFormat format, uint64_t modifier);

struct cr_vm_vk_buffer {
	VkBuffer buffer;
	VkDeviceMemory memory;
	VkDeviceSize size;
	void *map;     /**< host buffers: coherent mapping of the whole buffer; imports: NULL */
	bool imported; /**< true for DMA-BUF imports (acquired from the foreign queue family) */
};

/** A host-visible, coherent transfer-destination buffer of @size bytes, mapped. */
struct cr_vm_vk_buffer *cr_vm_vk_buffer_create_host(struct cr_vm_vk *vk, VkDeviceSize size);

/**
 * Imports the first @size bytes of the DMA-BUF @dmabuf (borrowed: Vulkan gets a dup) as a
 * transfer-source buffer.
 */
struct cr_vm_vk_buffer *cr_vm_vk_buffer_import(struct cr_vm_vk *vk, int dmabuf,
					       VkDeviceSize size);

/** Frees @buf once the GPU no longer uses it. NULL is a no-op. */
void cr_vm_vk_buffer_destroy(struct cr_vm_vk *vk, struct cr_vm_vk_buffer *buf);

struct cr_vm_vk_image {
	VkImage image;
	VkDeviceMemory memory;
	uint32_t width;
	uint32_t height;
	uint32_t bytes_per_pixel;
};

/**
 * Imports the DMA-BUF @dmabuf (borrowed: Vulkan gets a dup) as a @width x @height single-plane
 * @format image with DRM_FORMAT_MOD_LINEAR, offset 0 and row pitch @stride, usable as a
 * transfer source. Needs image_drm_format_modifier. @format must be a 4-byte format.
 */
struct cr_vm_vk_image *cr_vm_vk_image_import(struct cr_vm_vk *vk, int dmabuf, uint32_t width,
					     uint32_t height, uint32_t stride, VkFormat format);

/** Frees @img once the GPU no longer uses it. NULL is a no-op. */
void cr_vm_vk_image_destroy(struct cr_vm_vk *vk, struct cr_vm_vk_image *img);

/** What cr_vm_vk_copy_submit() copies and how it synchronises. */
struct cr_vm_vk_copy {
	/** Exactly one source: an imported (or host) buffer, copied whole ... */
	const struct cr_vm_vk_buffer *src_buffer;
	/** ... or an imported image, copied as tightly packed rows. */
	const struct cr_vm_vk_image *src_image;
	/** Host buffer receiving the bytes; at least as large as the source data. */
	const struct cr_vm_vk_buffer *dst;
	/**
	 * A sync_file the copy waits for (at the transfer stage) when >= 0; taken, also on
	 * failure: imported as the temporary SYNC_FD payload of a binary semaphore.
	 */
	int wait_sync_file;
	/** Also signal a semaphore whose SYNC_FD cr_vm_vk_job_export_sync_file() returns. */
	bool export_sync_file;
};

/** One submitted copy: a command buffer, a fence and its semaphores. */
struct cr_vm_vk_job;

/**
 * Records the copy with the queue-family acquire of imported sources before it (oldLayout
 * GENERAL, never UNDEFINED: the contents are the producer's) and their release after it, and
 * submits it. Returns the job or NULL (nothing was submitted).
 */
struct cr_vm_vk_job *cr_vm_vk_copy_submit(struct cr_vm_vk *vk, const struct cr_vm_vk_copy *copy);

/** 1 when @job has completed, 0 while it is pending, -1 on error (device lost). */
int cr_vm_vk_job_poll(struct cr_vm_vk *vk, struct cr_vm_vk_job *job);

/** Waits up to @timeout_ns for @job: 1 completed, 0 timeout, -1 error. */
int cr_vm_vk_job_wait(struct cr_vm_vk *vk, struct cr_vm_vk_job *job, uint64_t timeout_ns);

/**
 * The completion of @job (submitted with export_sync_file) as a new sync_file fd, or -1.
 * lavapipe blocks in vkGetSemaphoreFdKHR until the job has completed and returns a signalled
 * sync_file (it cannot export a pending one): call it after the job's waits can be satisfied.
 */
int cr_vm_vk_job_export_sync_file(struct cr_vm_vk *vk, struct cr_vm_vk_job *job);

/**
 * Frees @job. A job that is still pending is waited for first (up to 20 s, then it is leaked
 * with a log line rather than freed under the GPU). NULL is a no-op.
 */
void cr_vm_vk_job_destroy(struct cr_vm_vk *vk, struct cr_vm_vk_job *job);
