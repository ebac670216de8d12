/* SPDX-License-Identifier: MIT */
#include "vk-device.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "vk-objects.h"

#define TOPIC "vk-device"

const char *cr_vk_result_name(VkResult res)
{
	switch (res) {
#define R(x) case x: return #x
	R(VK_SUCCESS);
	R(VK_NOT_READY);
	R(VK_TIMEOUT);
	R(VK_INCOMPLETE);
	R(VK_ERROR_OUT_OF_HOST_MEMORY);
	R(VK_ERROR_OUT_OF_DEVICE_MEMORY);
	R(VK_ERROR_INITIALIZATION_FAILED);
	R(VK_ERROR_DEVICE_LOST);
	R(VK_ERROR_MEMORY_MAP_FAILED);
	R(VK_ERROR_LAYER_NOT_PRESENT);
	R(VK_ERROR_EXTENSION_NOT_PRESENT);
	R(VK_ERROR_FEATURE_NOT_PRESENT);
	R(VK_ERROR_INCOMPATIBLE_DRIVER);
	R(VK_ERROR_TOO_MANY_OBJECTS);
	R(VK_ERROR_FORMAT_NOT_SUPPORTED);
	R(VK_ERROR_INVALID_EXTERNAL_HANDLE);
#undef R
	default:
		return "VK_ERROR_(unknown)";
	}
}

bool cr_vk_check(struct cr_vk_device *dev, VkResult res, const char *what)
{
	if (res == VK_SUCCESS)
		return true;
	cr_log_error(TOPIC, "%s failed: %s (%d)", what, cr_vk_result_name(res), res);
	if (res == VK_ERROR_DEVICE_LOST && dev)
		dev->lost = true;
	return false;
}

static bool has_extension(const VkExtensionProperties *exts, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(exts[i].extensionName, name) == 0)
			return true;
	return false;
}

static int type_rank(VkPhysicalDeviceType type)
{
	switch (type) {
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
	case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
	default: return 4;
	}
}

static bool compute_family(VkPhysicalDevice phys, uint32_t *family)
{
	uint32_t n = 0;
	vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, NULL);
	VkQueueFamilyProperties props[16];
	n = n > 16 ? 16 : n;
	vkGetPhysicalDeviceQueueFamilyProperties(phys, &n, props);
	/* Prefer a family that also does graphics: on real GPUs it is the one other
	 * processes' buffers are usually bound to, and it always supports compute. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < n; i++) {
			VkQueueFlags f = props[i].queueFlags;
			if (!(f & VK_QUEUE_COMPUTE_BIT))
				continue;
			if (pass == 0 && !(f & VK_QUEUE_GRAPHICS_BIT))
				continue;
			*family = i;
			return true;
		}
	}
	return false;
}

static bool is_index(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int cr_vk_device_pick(const struct cr_vk_candidate *c, uint32_t n, const char *select,
		      dev_t drm_node, bool *matched)
{
	int best = -1, best_rank = 99;
	*matched = false;
	for (uint32_t i = 0; i < n; i++) {
		if (select && *select) {
			bool match = is_index(select) ? strtoul(select, NULL, 10) == i
						      : strcasestr(c[i].name, select) != NULL;
			if (match && c[i].usable)
				return (int)i;
			continue;
		}
		if (!c[i].usable)
			continue;
		if (drm_node && c[i].has_drm &&
		    (c[i].primary == drm_node || c[i].render == drm_node)) {
			*matched = true;
			return (int)i;
		}
		if (c[i].rank < best_rank) {
			best = (int)i;
			best_rank = c[i].rank;
		}
	}
	return best;
}

/* VK_EXT_physical_device_drm: the DRM nodes behind @phys, when the driver tells. */
static void drm_nodes(VkPhysicalDevice phys, const VkPhysicalDeviceProperties *p,
		      struct cr_vk_candidate *c)
{
	uint32_t n = 0;
	vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL);
	VkExtensionProperties *exts = calloc(n ? n : 1, sizeof(*exts));
	if (!exts)
		return;
	vkEnumerateDeviceExtensionProperties(phys, NULL, &n, exts);
	bool has = has_extension(exts, n, VK_EXT_PHYSICAL_DEVICE_DRM_EXTENSION_NAME);
	free(exts);
	if (!has || p->apiVersion < VK_API_VERSION_1_1)
		return;
	VkPhysicalDeviceDrmPropertiesEXT drm = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRM_PROPERTIES_EXT,
	};
	VkPhysicalDeviceProperties2 p2 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
		.pNext = &drm,
	};
	vkGetPhysicalDeviceProperties2(phys, &p2);
	c->has_drm = drm.hasPrimary || drm.hasRender;
	if (drm.hasPrimary)
		c->primary = makedev((unsigned)drm.primaryMajor, (unsigned)drm.primaryMinor);
	if (drm.hasRender)
		c->render = makedev((unsigned)drm.renderMajor, (unsigned)drm.renderMinor);
}

static VkPhysicalDevice choose(VkPhysicalDevice *devs, uint32_t n, const char *select,
			       dev_t drm_node)
{
	struct cr_vk_candidate c[16];
	VkPhysicalDeviceProperties p[16];
	for (uint32_t i = 0; i < n; i++) {
		vkGetPhysicalDeviceProperties(devs[i], &p[i]);
		uint32_t family;
		c[i] = (struct cr_vk_candidate){
			.name = p[i].deviceName,
			.usable = compute_family(devs[i], &family) &&
				  p[i].apiVersion >= VK_API_VERSION_1_1,
			.rank = type_rank(p[i].deviceType),
		};
		drm_nodes(devs[i], &p[i], &c[i]);
	}
	bool matched;
	int i = cr_vk_device_pick(c, n, select, drm_node, &matched);
	if (i < 0)
		return VK_NULL_HANDLE;
	if (matched)
		cr_log_info(TOPIC, "%s is the DRM device %u:%u", c[i].name, major(drm_node),
			    minor(drm_node));
	else if (drm_node && !(select && *select))
		cr_log_info(TOPIC, "no Vulkan device reports DRM node %u:%u "
				   "(VK_EXT_physical_device_drm): choosing by type",
			    major(drm_node), minor(drm_node));
	return devs[i];
}

static void log_devices(VkPhysicalDevice *devs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		VkPhysicalDeviceProperties p;
		vkGetPhysicalDeviceProperties(devs[i], &p);
		cr_log_error(TOPIC, "  device %u: %s (Vulkan %u.%u)", i, p.deviceName,
			     VK_API_VERSION_MAJOR(p.apiVersion), VK_API_VERSION_MINOR(p.apiVersion));
	}
}

struct cr_vk_device *cr_vk_device_create(const char *select)
{
	return cr_vk_device_create_for_drm(select, 0);
}

struct cr_vk_device *cr_vk_device_create_for_drm(const char *select, dev_t drm_node)
{
	struct cr_vk_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;

	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "castrelay",
		.pEngineName = "castrelay",
		.apiVersion = VK_API_VERSION_1_1,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	VkResult res = vkCreateInstance(&ici, NULL, &dev->instance);
	if (res != VK_SUCCESS) {
		cr_log_error(TOPIC,
			     "no Vulkan driver: vkCreateInstance failed with %s; install a Vulkan "
			     "driver (mesa-vulkan-drivers provides lavapipe, a CPU implementation)",
			     cr_vk_result_name(res));
		goto err_free;
	}
	cr_vk_objects_add(CR_VK_OBJECT_INSTANCE, 1);

	uint32_t n = 0;
	vkEnumeratePhysicalDevices(dev->instance, &n, NULL);
	if (n == 0) {
		cr_log_error(TOPIC, "no Vulkan device: the Vulkan loader found no physical device; "
				    "install mesa-vulkan-drivers (lavapipe) or your GPU's driver");
		goto err_instance;
	}
	VkPhysicalDevice devs[16];
	n = n > 16 ? 16 : n;
	vkEnumeratePhysicalDevices(dev->instance, &n, devs);
	dev->phys = choose(devs, n, select, drm_node);
	if (dev->phys == VK_NULL_HANDLE) {
		if (select && *select)
			cr_log_error(TOPIC, "no Vulkan device matches '%s' (an index or part of a "
					    "name) with a compute queue and Vulkan 1.1; devices:",
				     select);
		else
			cr_log_error(TOPIC, "no Vulkan device with a compute queue and Vulkan 1.1; "
					    "devices:");
		log_devices(devs, n);
		goto err_instance;
	}
	vkGetPhysicalDeviceProperties(dev->phys, &dev->props);
	vkGetPhysicalDeviceMemoryProperties(dev->phys, &dev->mem_props);
	compute_family(dev->phys, &dev->queue_family);

	uint32_t n_ext = 0;
	vkEnumerateDeviceExtensionProperties(dev->phys, NULL, &n_ext, NULL);
	VkExtensionProperties *exts = calloc(n_ext ? n_ext : 1, sizeof(*exts));
	if (!exts)
		goto err_instance;
	vkEnumerateDeviceExtensionProperties(dev->phys, NULL, &n_ext, exts);

	const char *enable[16];
	uint32_t n_enable = 0;
#define OPTIONAL(flag, name)                                   \
	do {                                                   \
		dev->ext.flag = has_extension(exts, n_ext, name); \
		if (dev->ext.flag)                             \
			enable[n_enable++] = name;             \
	} while (0)
	OPTIONAL(external_memory_fd, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME);
	OPTIONAL(external_memory_dma_buf, VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME);
	/* The modifier extension depends on VK_KHR_image_format_list (core only from 1.2). */
	if (has_extension(exts, n_ext, VK_KHR_IMAGE_FORMAT_LIST_EXTENSION_NAME)) {
		OPTIONAL(image_drm_format_modifier, VK_EXT_IMAGE_DRM_FORMAT_MODIFIER_EXTENSION_NAME);
		if (dev->ext.image_drm_format_modifier)
			enable[n_enable++] = VK_KHR_IMAGE_FORMAT_LIST_EXTENSION_NAME;
	}
	OPTIONAL(external_semaphore_fd, VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME);
	OPTIONAL(external_memory_host, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
	OPTIONAL(queue_family_foreign, VK_EXT_QUEUE_FAMILY_FOREIGN_EXTENSION_NAME);
#undef OPTIONAL
	free(exts);
	/* DMA-BUF import needs both; one without the other is useless. */
	dev->ext.external_memory_dma_buf &= dev->ext.external_memory_fd;

	float priority = 1.0f;
	VkDeviceQueueCreateInfo qci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = dev->queue_family,
		.queueCount = 1,
		.pQueuePriorities = &priority,
	};
	VkPhysicalDeviceFeatures supported, features = { 0 };
	vkGetPhysicalDeviceFeatures(dev->phys, &supported);
	features.shaderStorageImageWriteWithoutFormat =
		supported.shaderStorageImageWriteWithoutFormat;
	dev->storage_write_without_format = supported.shaderStorageImageWriteWithoutFormat;
	VkDeviceCreateInfo dci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qci,
		.pEnabledFeatures = &features,
		.enabledExtensionCount = n_enable,
		.ppEnabledExtensionNames = enable,
	};
	res = vkCreateDevice(dev->phys, &dci, NULL, &dev->dev);
	if (res != VK_SUCCESS) {
		cr_log_error(TOPIC, "vkCreateDevice on %s failed: %s", dev->props.deviceName,
			     cr_vk_result_name(res));
		goto err_instance;
	}
	cr_vk_objects_add(CR_VK_OBJECT_DEVICE, 1);
	vkGetDeviceQueue(dev->dev, dev->queue_family, 0, &dev->queue);
	pthread_mutex_init(&dev->queue_lock, NULL);
	if (dev->ext.external_memory_fd) {
		dev->get_memory_fd_properties = (PFN_vkGetMemoryFdPropertiesKHR)vkGetDeviceProcAddr(
			dev->dev, "vkGetMemoryFdPropertiesKHR");
		dev->get_memory_fd = (PFN_vkGetMemoryFdKHR)vkGetDeviceProcAddr(dev->dev,
									"vkGetMemoryFdKHR");
	}
	if (dev->ext.image_drm_format_modifier)
		dev->get_image_modifier = (PFN_vkGetImageDrmFormatModifierPropertiesEXT)
			vkGetDeviceProcAddr(dev->dev, "vkGetImageDrmFormatModifierPropertiesEXT");
	if (dev->ext.external_memory_host) {
		dev->get_host_pointer_properties = (PFN_vkGetMemoryHostPointerPropertiesEXT)
			vkGetDeviceProcAddr(dev->dev, "vkGetMemoryHostPointerPropertiesEXT");
		const VkStructureType type =
			VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT;
		VkPhysicalDeviceExternalMemoryHostPropertiesEXT host = { .sType = type };
		VkPhysicalDeviceProperties2 p2 = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
			.pNext = &host,
		};
		vkGetPhysicalDeviceProperties2(dev->phys, &p2);
		dev->host_pointer_alignment = host.minImportedHostPointerAlignment;
		/* A power of two by the spec; anything else is not trusted. */
		if (!dev->get_host_pointer_properties || dev->host_pointer_alignment == 0 ||
		    (dev->host_pointer_alignment & (dev->host_pointer_alignment - 1)))
			dev->ext.external_memory_host = false;
	}
	if (dev->ext.external_semaphore_fd) {
		dev->import_semaphore_fd = (PFN_vkImportSemaphoreFdKHR)vkGetDeviceProcAddr(
			dev->dev, "vkImportSemaphoreFdKHR");
		dev->get_semaphore_fd = (PFN_vkGetSemaphoreFdKHR)vkGetDeviceProcAddr(
			dev->dev, "vkGetSemaphoreFdKHR");
	}

	cr_log_info(TOPIC, "using %s (Vulkan %u.%u, queue family %u); dma-buf import %s, "
			   "drm modifiers %s, sync_fd semaphores %s, host memory import %s",
		    dev->props.deviceName, VK_API_VERSION_MAJOR(dev->props.apiVersion),
		    VK_API_VERSION_MINOR(dev->props.apiVersion), dev->queue_family,
		    dev->ext.external_memory_dma_buf ? "yes" : "no",
		    dev->ext.image_drm_format_modifier ? "yes" : "no",
		    dev->ext.external_semaphore_fd ? "yes" : "no",
		    dev->ext.external_memory_host ? "yes" : "no");
	return dev;

err_instance:
	vkDestroyInstance(dev->instance, NULL);
	cr_vk_objects_add(CR_VK_OBJECT_INSTANCE, -1);
err_free:
	free(dev);
	return NULL;
}

void cr_vk_device_destroy(struct cr_vk_device *dev)
{
	if (!dev)
		return;
	vkDeviceWaitIdle(dev->dev);
	vkDestroyDevice(dev->dev, NULL);
	cr_vk_objects_add(CR_VK_OBJECT_DEVICE, -1);
	pthread_mutex_destroy(&dev->queue_lock);
	vkDestroyInstance(dev->instance, NULL);
	cr_vk_objects_add(CR_VK_OBJECT_INSTANCE, -1);
	free(dev);
}

/* True once when the armed fault is @where: that call fails as a lost device's would. */
static bool take_fault(struct cr_vk_device *dev, enum cr_vk_fault where)
{
	int expected = (int)where;
	if (!atomic_compare_exchange_strong(&dev->fault, &expected, CR_VK_FAULT_NONE))
		return false;
	cr_log_warn(TOPIC, "simulating a lost device (CASTRELAY_TEST_DEVICE_LOST)");
	return true;
}

void cr_vk_device_inject_lost(struct cr_vk_device *dev, enum cr_vk_fault where)
{
	atomic_store(&dev->fault, (int)where);
}

bool cr_vk_device_submit(struct cr_vk_device *dev, uint32_t n, const VkSubmitInfo *si,
			 VkFence fence, const char *what)
{
	if (atomic_load(&dev->lost) || take_fault(dev, CR_VK_FAULT_SUBMIT))
		return cr_vk_check(dev, VK_ERROR_DEVICE_LOST, what);
	pthread_mutex_lock(&dev->queue_lock);
	VkResult res = vkQueueSubmit(dev->queue, n, si, fence);
	pthread_mutex_unlock(&dev->queue_lock);
	return cr_vk_check(dev, res, what);
}

VkResult cr_vk_device_wait_fence(struct cr_vk_device *dev, VkFence fence, uint64_t timeout_ns,
				 const char *what)
{
	VkResult res = vkWaitForFences(dev->dev, 1, &fence, VK_TRUE, timeout_ns);
	if (res == VK_SUCCESS && take_fault(dev, CR_VK_FAULT_WAIT))
		res = VK_ERROR_DEVICE_LOST;
	if (res != VK_TIMEOUT)
		cr_vk_check(dev, res, what);
	return res;
}

void cr_vk_device_wait_queue(struct cr_vk_device *dev)
{
	pthread_mutex_lock(&dev->queue_lock);
	VkResult res = vkQueueWaitIdle(dev->queue);
	pthread_mutex_unlock(&dev->queue_lock);
	if (res != VK_SUCCESS)
		cr_vk_check(dev, res, "vkQueueWaitIdle");
}

const char *cr_vk_device_name(const struct cr_vk_device *dev)
{
	return dev->props.deviceName;
}

int32_t cr_vk_device_memory_type(const struct cr_vk_device *dev, uint32_t type_bits,
				 VkMemoryPropertyFlags want, VkMemoryPropertyFlags prefer)
{
	int32_t fallback = -1;
	for (uint32_t i = 0; i < dev->mem_props.memoryTypeCount; i++) {
		VkMemoryPropertyFlags f = dev->mem_props.memoryTypes[i].propertyFlags;
		if (!(type_bits & (1u << i)) || (f & want) != want)
			continue;
		if ((f & prefer) == prefer)
			return (int32_t)i;
		if (fallback < 0)
			fallback = (int32_t)i;
	}
	return fallback;
}
